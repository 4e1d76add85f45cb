"""python-telegram-bot's request layer answered by the fake Bot API in this process: no socket, no HTTP.

python-telegram-bot (PTB) turns every call into a RequestData and hands it to a BaseRequest, its extension
point for transports: HTTPXRequest sends the fields as a form over HTTP, FakeRequest hands the same fields
(RequestData.json_parameters: strings as they are, the rest JSON) to FakeBotAPI.dispatch, decoded as the
HTTP server decodes a form, and gives PTB the same status and JSON body back. So the bot meets the same
Telegram (the same paths and token check, tdlib judging every HTML text, the same errors, the same records in
`calls`) without the loopback round trips. Each call runs in a worker thread, as the HTTP server answers
each request in its own, so a long poll blocks nothing else and the event loop never waits on the fake.

What only HTTP shows stays on the HTTP server: a connection fault ("drop", "timeout", "hang", "slow")
injected for a call that comes this way is recorded in `server_errors`, so the test fails saying so.

    application = build_application(config, answerer, transport=lambda: FakeRequest(fake))
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from tests.fake_bot_api import CONNECTION_FAULTS, ApiError, FakeBotAPI, decode_field

# Where PTB is pointed (TELEGRAM_API_BASE_URL) when FakeRequest carries its calls: only the path matters
# here, and should the real HTTP client ever be handed this URL, it stays on this machine and is refused.
BASE_URL = "http://127.0.0.1:1/bot"


class FakeRequest(BaseRequest):
    """A BaseRequest whose every call is answered by `fake`, in this process."""

    def __init__(self, fake: FakeBotAPI, read_timeout: float | None = 5.0) -> None:
        self.fake = fake
        self._read_timeout = read_timeout
        self._pool: ThreadPoolExecutor | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="FakeRequest")

    async def shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)  # a long poll still waiting ends with the fake

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            return self._refuse("a file upload (the bot sends none; the fake reads no files)")
        fields = request_data.json_parameters if request_data is not None else {}
        params = {name: decode_field(name, value) for name, value in fields.items()}
        timeout = self._read_timeout if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout
        await self.initialize()
        call = asyncio.get_running_loop().run_in_executor(self._pool, self._answer, url, params)
        try:
            status, payload = await asyncio.wait_for(call, timeout)
        except asyncio.TimeoutError:
            raise TimedOut(f"the fake Bot API did not answer within {timeout} s") from None
        return status, json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _answer(self, url: str, params: dict) -> tuple[int, dict]:
        """What the HTTP server does with a request, less the connection (runs in a worker thread)."""
        try:
            method = self.fake.route(urllib.parse.urlsplit(url).path)
        except ApiError as error:
            return error.status, error.payload()
        fault = self.fake.take_fault(method)
        if fault is not None:
            if fault["fault"] in CONNECTION_FAULTS:
                self.fake.server_errors.append(
                    f"fault {fault['fault']!r} injected for {method}, which came "
                    "in-process (FakeRequest): connection faults need the HTTP server"
                )
                return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error (see server_errors)"}
            return self.fake.fault_answer(fault)
        return self.fake.dispatch(method, params)

    def _refuse(self, what: str) -> tuple[int, bytes]:
        self.fake.server_errors.append(f"FakeRequest was handed {what}")
        body = {"ok": False, "error_code": 500, "description": "Internal Server Error (see server_errors)"}
        return 500, json.dumps(body).encode("utf-8")
