"""Log lines as JSON objects and plain text, each with the id of the request it was written for,
on the thread that handles the request and on threads it hands work to."""

from __future__ import annotations

import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from ledger.logs import LinesAsRecords, carried, handler, request_id


@pytest.fixture
def captured():
    """A logger of its own writing JSON lines to a buffer; yields (logger, lines)."""
    out = io.StringIO()
    logger = logging.getLogger(f"reelledger.test-logs.{id(out)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler("json", out))

    def lines() -> list[dict]:
        return [json.loads(line) for line in out.getvalue().splitlines()]

    yield logger, lines
    logger.handlers.clear()


def test_a_json_line_has_time_level_logger_message_and_request_id(captured):
    logger, lines = captured
    token = request_id.set("req-1")
    try:
        logger.warning("outbox %d waits for %s", 7, "gas")
    finally:
        request_id.reset(token)
    (line,) = lines()
    assert line["level"] == "WARNING" and line["logger"] == logger.name
    assert line["message"] == "outbox 7 waits for gas" and line["request_id"] == "req-1"
    assert line["time"].endswith("+00:00") and "exception" not in line


def test_a_line_outside_any_request_has_no_request_id(captured):
    logger, lines = captured
    logger.info("reconcile pass")
    assert lines()[0]["request_id"] is None


def test_an_exception_is_one_line_with_its_traceback_as_text(captured):
    logger, lines = captured
    try:
        raise ValueError("the node said no")
    except ValueError:
        logger.exception("pass failed")
    (line,) = lines()
    assert line["message"] == "pass failed"
    assert "Traceback" in line["exception"] and "ValueError: the node said no" in line["exception"]


def test_work_handed_to_a_thread_carries_the_request_id(captured):
    logger, lines = captured
    token = request_id.set("req-thread")
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(carried(logger.info), "marking a copy").result()
            pool.submit(logger.info, "not carried").result()
    finally:
        request_id.reset(token)
    assert [(line["message"], line["request_id"]) for line in lines()] == [
        ("marking a copy", "req-thread"),
        ("not carried", None),
    ]


def test_a_text_line_names_its_request_after_the_message():
    out = io.StringIO()
    record = logging.LogRecord("reelledger", logging.INFO, __file__, 1, "registered %s", ("work",), None)
    text = handler("text", out)
    token = request_id.set("req-9")
    try:
        text.handle(record)
    finally:
        request_id.reset(token)
    assert out.getvalue().rstrip().endswith("INFO reelledger: registered work [request req-9]")


def test_an_access_line_never_shows_a_counter_notice_token(captured):
    logger, lines = captured
    token = "Qx3v9_secret-Token-Value-0123456789abcdef"
    # uvicorn's access line: client, method, path with its query, HTTP version, status
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/counter-notices?token={token}&x=1", "1.1", 200)
    (line,) = lines()
    assert token not in line["message"]
    assert "/counter-notices?token=…&x=1" in line["message"] and line["message"].endswith(" 200")


def test_what_a_worker_prints_becomes_one_json_line_per_line_written(captured):
    logger, lines = captured
    fallback = io.StringIO()
    printed = LinesAsRecords(logger, logging.WARNING, fallback)
    print("Exception in thread crawl-3:", file=printed, end="")
    print("\nTraceback (most recent call last):\n", file=printed, end="")
    print("", file=printed)  # a blank line is not a record
    assert [(line["level"], line["message"]) for line in lines()] == [
        ("WARNING", "Exception in thread crawl-3:"),
        ("WARNING", "Traceback (most recent call last):"),
    ]
    assert fallback.getvalue() == ""
