"""`bench.instructions` reads each door's count from callgrind's dump files.

Its numbers decide whether a change slowed a door by a few percent, so a door must get its
own dump's count (not the setup's, not another door's), divided by the requests sent.
"""

from __future__ import annotations

from pathlib import Path

from bench.instructions import counts


def dump(trigger: str, instructions: int) -> str:
    """The head of a callgrind dump file, as `callgrind_control --dump=LABEL` writes it."""
    return (
        "version: 1\ncreator: callgrind-3.19.0\npid: 7\ncmd:  python -m bench.instructions\n"
        "part: 2\n\ndesc: I1 cache: \ndesc: Timerange: Basic block 1 - 2\n"
        f"desc: Trigger: dump {trigger}\n\npositions: line\nevents: Ir\n"
        f"summary: {instructions}\n\nfl=(1) x.c\nfn=(1) main\n1 {instructions}\n"
        f"\ntotals: {instructions}\n"
    )


def test_each_door_gets_its_own_dump_per_request(tmp_path: Path) -> None:
    (tmp_path / "a.7.1").write_text(dump("setup", 4_000_000_000))
    (tmp_path / "a.7.2").write_text(dump("rest_get", 520_000_000))
    (tmp_path / "a.7.3").write_text(dump("graphql_metadata", 740_000_000))
    (tmp_path / "b.8.2").write_text(dump("rest_get", 1))
    (tmp_path / "a.log").write_text("==7== Callgrind, a call-graph generating cache profiler\n")

    assert counts(tmp_path, "a", requests=200) == {
        "rest_get": 2_600_000,
        "graphql_metadata": 3_700_000,
    }
