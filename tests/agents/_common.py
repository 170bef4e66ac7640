"""Shared pieces of the wsdeck test agents (real azure-ai-agentserver-invocations SDK).

Kept small on purpose: a receive helper, the host options, and a run helper,
so each agent file reads as the handler it is.
"""

import logging
import os

from starlette.websockets import WebSocket, WebSocketDisconnect

from azure.ai.agentserver.invocations import InvocationAgentServerHost


async def receive_frame(websocket: WebSocket) -> dict:
    """Return the next ASGI ``websocket.receive`` message (has ``text`` or ``bytes``).

    A client close raises ``WebSocketDisconnect``, which the SDK treats as the
    client leaving (no 1011). Note: Hypercorn reports every client-initiated
    close to the app as code 1006, so the SDK's close log line says ``code=1006``.
    """
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(code=message.get("code", 1000), reason=message.get("reason"))
    return message


def console_only_observability(*, log_level=None, **_ignored) -> None:
    """The console half of the SDK's default ``configure_observability``.

    Same root ``StreamHandler`` on stderr with the SDK's format
    ``%(asctime)s %(levelname)s %(name)s: %(message)s``, so the SDK's log lines
    (``WebSocket handler raised for session ...``, ``invocations_ws connection
    closed: ...``) read exactly as in a container. What it leaves out is the
    OpenTelemetry distro: with no exporter configured it falls back to console
    exporters that print every log record as multi-line JSON on stdout, and it
    starts SDK stats that try to reach westus-0.in.applicationinsights.azure.com.
    """
    root = logging.getLogger()
    root.setLevel((log_level or os.environ.get("AGENT_LOG_LEVEL") or "INFO").upper())
    if not any(isinstance(h, logging.StreamHandler) for h in root.handlers):
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(console)


def host_kwargs() -> dict:
    """Host options: console-only logging unless ``WSDECK_AGENT_FULL_OTEL=1``."""
    if os.environ.get("WSDECK_AGENT_FULL_OTEL", "") in ("1", "true"):
        return {}
    return {"configure_observability": console_only_observability}


def run(app: InvocationAgentServerHost) -> None:
    """Serve on ``$PORT`` (default 8088, resolved by the SDK itself).

    The SDK binds 0.0.0.0 by default; these test agents bind 127.0.0.1 unless
    ``HOST`` says otherwise (set ``HOST=0.0.0.0`` inside a container).
    """
    app.run(host=os.environ.get("HOST", "127.0.0.1"))
