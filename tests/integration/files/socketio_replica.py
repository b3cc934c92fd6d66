"""A stand-in Open WebUI replica for the load balancer tests: python-socketio and uvicorn (as Open WebUI
serves them) answering HTTP with the replica's name, Socket.IO on /ws/socket.io (Open WebUI's path) and the
same server on /plain/socket.io, which the load balancer proxies without the websocket headers.
Every connected client receives a ``replica`` event with the name. Runs in the Open WebUI test image."""

import os

import socketio
import uvicorn

NAME = os.environ["REPLICA"]
sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")


@sio.event
async def connect(sid, environ, auth=None):
    await sio.emit("replica", {"name": NAME, "transport": sio.transport(sid)}, to=sid)


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    host = dict(scope["headers"]).get(b"host", b"").decode()
    forwarded = dict(scope["headers"]).get(b"x-forwarded-for", b"").decode()
    body = f'{{"replica": "{NAME}", "host": "{host}", "x_forwarded_for": "{forwarded}"}}'
    await send({"type": "http.response.body", "body": body.encode()})


app = socketio.ASGIApp(sio, other_asgi_app=hello, socketio_path="/ws/socket.io")
app = socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="/plain/socket.io")

if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=8080, log_level="warning")
