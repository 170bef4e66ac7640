"""Echo agent (same behaviour as echo_agent.py) that also registers an AsyncAPI 3
document, served by the SDK at ``GET /invocations/docs/asyncapi.json``.

The SDK takes the document as ``InvocationAgentServerHost(asyncapi_spec_json=<dict>)``
(and optionally ``asyncapi_spec_yaml=<str>`` for ``/invocations/docs/asyncapi.yaml``).
This agent registers both: ``ASYNCAPI_YAML`` is the same document as an author would write it
in YAML (a Rust test checks that the two read alike).

Run: ``PORT=8099 python tests/agents/asyncapi_agent.py`` (port defaults to 8088).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from echo_agent import build_app  # noqa: E402
from _common import run  # noqa: E402

ASYNCAPI = {
    "asyncapi": "3.0.0",
    "info": {
        "title": "wsdeck echo agent",
        "version": "1.0.0",
        "description": "Echoes text and binary frames; a few JSON control messages.",
    },
    "channels": {
        "invocations_ws": {
            "address": "/invocations_ws",
            "messages": {
                "text": {"name": "text", "contentType": "text/plain", "payload": {"type": "string"}},
                "whoami": {
                    "name": "whoami",
                    "contentType": "application/json",
                    "payload": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {
                            "type": {"const": "whoami"},
                            "query": {"type": "string"},
                            "agent_session_id": {"type": ["string", "null"]},
                        },
                    },
                },
                "close": {
                    "name": "close",
                    "contentType": "application/json",
                    "payload": {"type": "object", "properties": {"type": {"const": "close"}}},
                },
                "raise": {
                    "name": "raise",
                    "contentType": "application/json",
                    "payload": {"type": "object", "properties": {"type": {"const": "raise"}}},
                },
            },
        }
    },
    "operations": {
        "sendToAgent": {
            "action": "receive",
            "channel": {"$ref": "#/channels/invocations_ws"},
            "messages": [
                {"$ref": "#/channels/invocations_ws/messages/text"},
                {"$ref": "#/channels/invocations_ws/messages/whoami"},
                {"$ref": "#/channels/invocations_ws/messages/close"},
                {"$ref": "#/channels/invocations_ws/messages/raise"},
            ],
        },
        "receiveFromAgent": {
            "action": "send",
            "channel": {"$ref": "#/channels/invocations_ws"},
            "messages": [
                {"$ref": "#/channels/invocations_ws/messages/text"},
                {"$ref": "#/channels/invocations_ws/messages/whoami"},
            ],
        },
    },
}

ASYNCAPI_YAML = """\
asyncapi: 3.0.0
info:
  title: wsdeck echo agent
  version: 1.0.0
  description: Echoes text and binary frames; a few JSON control messages.
channels:
  invocations_ws:
    address: /invocations_ws
    messages:
      text:
        name: text
        contentType: text/plain
        payload: {type: string}
      whoami:
        name: whoami
        contentType: application/json
        payload:
          type: object
          required: [type]
          properties:
            type: {const: whoami}
            query: {type: string}
            agent_session_id: {type: [string, "null"]}
      close:
        name: close
        contentType: application/json
        payload: {type: object, properties: {type: {const: close}}}
      raise:
        name: raise
        contentType: application/json
        payload: {type: object, properties: {type: {const: raise}}}
operations:
  sendToAgent:
    action: receive
    channel: {$ref: '#/channels/invocations_ws'}
    messages:
      - $ref: '#/channels/invocations_ws/messages/text'
      - $ref: '#/channels/invocations_ws/messages/whoami'
      - $ref: '#/channels/invocations_ws/messages/close'
      - $ref: '#/channels/invocations_ws/messages/raise'
  receiveFromAgent:
    action: send
    channel: {$ref: '#/channels/invocations_ws'}
    messages:
      - $ref: '#/channels/invocations_ws/messages/text'
      - $ref: '#/channels/invocations_ws/messages/whoami'
"""


if __name__ == "__main__":
    run(build_app(asyncapi_spec_json=ASYNCAPI, asyncapi_spec_yaml=ASYNCAPI_YAML))
