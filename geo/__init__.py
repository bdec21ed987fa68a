"""Places and roads of Beijing: OSM road graph, compiled network, routing, ring zones."""
