"""`gc_paused`: the cyclic garbage collector is off inside and restored after."""

from __future__ import annotations

import gc
import threading

import pytest

from govchain.ledger.gc_pause import gc_paused


def test_gc_paused_restores_enabled() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_gc_paused_nested_keeps_pause() -> None:
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_gc_paused_keeps_disabled_collector() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_paused_restores_after_error() -> None:
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("inside the pause")
    assert gc.isenabled()


def test_gc_paused_overlapping_threads() -> None:
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gc_paused():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    assert entered.wait(5)
    with gc_paused():
        pass
    # The other thread is still inside its pause.
    assert not gc.isenabled()
    release.set()
    thread.join(5)
    assert gc.isenabled()
