"""Echo agent for wsdeck tests, on the real SDK route ``/invocations_ws``.

* text frame  -> the same text back; binary frame -> the same bytes back;
* ``{"type":"whoami"}`` -> ``{"type":"whoami","query":"<raw query>","agent_session_id":<value or null>}``;
* ``{"type":"close"}``  -> the handler returns, so the SDK closes 1000 (empty reason);
* ``{"type":"raise"}``  -> the handler raises, so the SDK closes 1011 "Internal server error".

Run: ``PORT=8099 python tests/agents/echo_agent.py`` (port defaults to 8088).
"""

import json
import sys
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from starlette.websockets import WebSocket  # noqa: E402

from azure.ai.agentserver.invocations import InvocationAgentServerHost  # noqa: E402

from _common import host_kwargs, receive_frame, run  # noqa: E402

WHOAMI = '{"type":"whoami"}'
CLOSE = '{"type":"close"}'
RAISE = '{"type":"raise"}'


async def echo(websocket: WebSocket) -> None:
    """Echo loop shared by the echo and asyncapi agents."""
    while True:
        message = await receive_frame(websocket)
        text = message.get("text")
        if text is None:
            await websocket.send_bytes(message.get("bytes") or b"")
            continue
        if text == WHOAMI:
            raw_query = websocket.scope.get("query_string", b"").decode("latin-1")
            values = parse_qs(raw_query, keep_blank_values=True).get("agent_session_id")
            await websocket.send_text(json.dumps(
                {"type": "whoami", "query": raw_query, "agent_session_id": values[0] if values else None},
                separators=(",", ":"),
            ))
        elif text == CLOSE:
            return
        elif text == RAISE:
            raise RuntimeError("boom requested")
        else:
            await websocket.send_text(text)


def build_app(**extra) -> InvocationAgentServerHost:
    app = InvocationAgentServerHost(**host_kwargs(), **extra)
    app.ws_handler(echo)
    return app


if __name__ == "__main__":
    run(build_app())
