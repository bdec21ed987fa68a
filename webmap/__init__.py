"""The live dispatch room: Flask + Flask-SocketIO server, the Leaflet page, the simulator.

``webmap.center.DispatchCenter`` owns the live state and goes through
:class:`optimizer.dispatch.board.DispatchBoard` for every decision; ``records.store`` keeps every
accepted command; ``webmap.app.create_app`` serves the page and the Socket.IO events.
"""
