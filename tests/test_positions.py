"""The binary ``truck_positions`` batch (webmap/positions.py) reads back what was sent."""

from __future__ import annotations

import pytest

from webmap.positions import positions_batch, read_positions_batch

ONE_TRUCK = positions_batch(["T1"], [(1.0, 2.0)], now_s=0, received_at=0, sent_at=0)["trucks"]


def test_batch_reads_back_ids_and_places_to_a_millionth_of_a_degree() -> None:
    batch = positions_batch(
        ["T01", "京A·X02"],
        [(116.4074001, 39.9042), (-0.0000004, -89.9999996)],
        now_s=10.0,
        received_at=1.5,
        sent_at=2.0,
    )
    assert isinstance(batch["trucks"], bytes) and batch["count"] == 2
    assert (batch["now_s"], batch["received_at"], batch["sent_at"]) == (10.0, 1.5, 2.0)
    assert read_positions_batch(batch) == {"T01": (116.4074, 39.9042), "京A·X02": (-0.0, -90.0)}


def test_an_empty_batch_reads_back_empty() -> None:
    batch = positions_batch([], [], now_s=0.0, received_at=0.0, sent_at=0.0)
    assert read_positions_batch(batch) == {}


@pytest.mark.parametrize(
    "batch",
    [
        None,
        {"count": 1, "trucks": "text"},
        {"count": 2, "trucks": ONE_TRUCK},  # fewer trucks than counted
        {"count": -1, "trucks": ONE_TRUCK},
        {"count": 0, "trucks": b"{}"},
    ],
)
def test_a_malformed_batch_is_refused(batch: object) -> None:
    with pytest.raises(ValueError):
        read_positions_batch(batch)
