"""The conftest guard: a test that logs an unexpected ERROR fails; a declared one passes, a stale declaration fails."""

from pathlib import Path

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
INI = """[pytest]
markers =
    expect_log_error(*patterns): declared ERROR records
"""

CASES = """
import logging
import threading

import pytest
from conftest import expect_log_error

log = logging.getLogger("dailies.batch")


def test_unexpected():
    log.error("MHL MISMATCH A001C001.mov")


def test_from_a_thread_of_a_logger_that_does_not_propagate():
    quiet = logging.getLogger("dailies.quiet")
    quiet.propagate = False
    t = threading.Thread(target=lambda: quiet.critical("disk full"))
    t.start()
    t.join()


@pytest.mark.expect_log_error("MISMATCH")
def test_declared():
    log.error("MHL MISMATCH A001C001.mov")


@pytest.mark.expect_log_error("MISMATCH")
def test_declared_but_other_error_too():
    log.error("MHL MISMATCH A001C001.mov")
    log.error("something else")


@pytest.mark.expect_log_error("never logged")
def test_stale_declaration():
    pass


def test_block_declared():
    with expect_log_error("embedding unavailable"):
        log.error("embedding unavailable: no weights")


def test_block_that_logs_nothing():
    with expect_log_error("embedding unavailable"):
        pass


def test_warning_is_fine():
    log.warning("only a warning")
"""


def test_error_logs_fail_the_test_that_logged_them(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(test_cases=CASES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")  # its logs stay in its process
    outcomes = {
        line.split(" ")[1].split("::")[1]: line.split(" ")[0]
        for line in result.outlines
        if line.startswith(("PASSED ", "FAILED ", "ERROR ")) and "::" in line
    }
    assert outcomes == {
        "test_unexpected": "ERROR",
        "test_from_a_thread_of_a_logger_that_does_not_propagate": "ERROR",
        "test_declared": "PASSED",
        "test_declared_but_other_error_too": "ERROR",
        "test_stale_declaration": "ERROR",
        "test_block_declared": "PASSED",
        "test_block_that_logs_nothing": "FAILED",
        "test_warning_is_fine": "PASSED",
    }, result.outlines
    text = "\n".join(result.outlines)
    assert "logged unexpectedly: ERROR dailies.batch: MHL MISMATCH A001C001.mov" in text
    assert "logged unexpectedly: CRITICAL dailies.quiet: disk full" in text
    assert "logged unexpectedly: ERROR dailies.batch: something else" in text
    assert "expect_log_error('never logged') matched no ERROR record" in text
