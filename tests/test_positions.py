"""The ``truck_positions`` batch (webmap/positions.py) reads back what was sent."""

from __future__ import annotations

import json

import pytest

from webmap.positions import positions_batch, read_positions_batch


def test_batch_reads_back_ids_and_places_to_a_millionth_of_a_degree() -> None:
    batch = positions_batch(
        ["T01", "京A·X02"],
        [(116.4074001, 39.9042), (-0.0000004, -89.9999996)],
        now_s=10.0,
        received_at=1.5,
        sent_at=2.0,
    )
    assert batch["lonlat_e6"] == [116407400, 39904200, 0, -90000000]
    assert (batch["now_s"], batch["received_at"], batch["sent_at"]) == (10.0, 1.5, 2.0)
    on_the_wire = json.loads(json.dumps(batch))  # plain JSON: no bytes, no floats per truck
    assert read_positions_batch(on_the_wire) == {
        "T01": (116.4074, 39.9042),
        "京A·X02": (0.0, -90.0),
    }


def test_an_empty_batch_reads_back_empty() -> None:
    batch = positions_batch([], [], now_s=0.0, received_at=0.0, sent_at=0.0)
    assert read_positions_batch(batch) == {}


@pytest.mark.parametrize(
    "batch",
    [
        None,
        {"ids": "T1", "lonlat_e6": [1, 2]},
        {"ids": ["T1"], "lonlat_e6": [1]},  # fewer coordinates than trucks need
        {"ids": ["T1"], "lonlat_e6": [1.5, 2]},
        {"ids": [1], "lonlat_e6": [1, 2]},
        {"ids": ["T1"]},
    ],
)
def test_a_malformed_batch_is_refused(batch: object) -> None:
    with pytest.raises(ValueError):
        read_positions_batch(batch)
