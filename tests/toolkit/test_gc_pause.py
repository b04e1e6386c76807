"""`ballast.gc_pause`: the collector is off inside the block and back to its previous
state after it, also when the block raises; `freeze` empties the young generations, and
by default only a process marked as one CLI command freezes."""

from __future__ import annotations

import gc

import pytest

from ballast import gc_pause
from ballast.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def _restore_gc(monkeypatch):
    monkeypatch.setattr(gc_pause, "_one_command_process", False)
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("enabled_before", [True, False])
def test_state_is_restored(enabled_before: bool) -> None:
    gc.enable() if enabled_before else gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled_before


def test_state_is_restored_when_the_block_raises() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_as_a_decorator() -> None:
    gc.enable()

    @gc_paused()
    def inside() -> bool:
        return gc.isenabled()

    assert inside() is False
    assert gc.isenabled()


def test_freeze_moves_what_the_block_left_alive_to_the_permanent_generation() -> None:
    gc.enable()
    gc.unfreeze()
    kept = []
    with gc_paused(freeze=True):
        kept.extend([{"n": i}] for i in range(1000))
        assert gc.get_count()[0] >= 1000
    assert gc.get_freeze_count() >= 1000
    assert gc.get_count()[0] < 1000
    assert gc.isenabled()


def test_without_freeze_nothing_is_frozen() -> None:
    gc.unfreeze()
    with gc_paused():
        _ = [[i] for i in range(100)]
    assert gc.get_freeze_count() == 0


def test_by_default_only_a_one_command_process_freezes() -> None:
    gc.unfreeze()
    with gc_paused():
        _ = [[i] for i in range(100)]
    assert gc.get_freeze_count() == 0
    gc_pause.one_command_process()
    with gc_paused():
        kept = [[i] for i in range(100)]
    assert gc.get_freeze_count() >= len(kept)


def test_an_explicit_freeze_false_wins_in_a_one_command_process() -> None:
    gc.unfreeze()
    gc_pause.one_command_process()
    with gc_paused(freeze=False):
        _ = [[i] for i in range(100)]
    assert gc.get_freeze_count() == 0


def test_the_cli_commands_leave_the_collector_on_when_run_in_process(tmp_path) -> None:
    """A test (or a library caller) running a command in-process gets its collector back
    and nothing frozen: only `ballast.cli.main` marks the process."""
    from typer.testing import CliRunner

    from ballast.cli import app

    gc.enable()
    gc.unfreeze()
    outcome = CliRunner().invoke(app, ["audit", "--accounts", "not-an-id"])
    assert outcome.exit_code == 2
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
