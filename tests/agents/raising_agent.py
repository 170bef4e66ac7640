"""Agent whose handler raises on the first frame it receives (text or binary).

The SDK then closes with 1011, reason "Internal server error", and logs
``WebSocket handler raised for session <sid>: handler failed on purpose`` with
the traceback on stderr.

Run: ``PORT=8099 python tests/agents/raising_agent.py`` (port defaults to 8088).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from starlette.websockets import WebSocket  # noqa: E402

from azure.ai.agentserver.invocations import InvocationAgentServerHost  # noqa: E402

from _common import host_kwargs, receive_frame, run  # noqa: E402

app = InvocationAgentServerHost(**host_kwargs())


@app.ws_handler
async def handle(websocket: WebSocket) -> None:
    await receive_frame(websocket)
    raise RuntimeError("handler failed on purpose")


if __name__ == "__main__":
    run(app)
