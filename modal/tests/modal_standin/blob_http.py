"""The blob store the client uploads to and downloads from over plain HTTP (S3 and Modal's block store, here).

  PUT /blob/<id>       a single-part upload; answers the body's md5 as a quoted ETag, which the client checks
  GET /blob/<id>       a blob's bytes (large function inputs/outputs, mount files uploaded as blobs)
  GET /block/<sha256>?offset=A&length=B   one slice of a volume file block (VolumeGetFile2's get_urls)
"""

from __future__ import annotations

import hashlib

from aiohttp import web


def add_blob_routes(app: web.Application, store) -> None:
    async def put_blob(request: web.Request) -> web.Response:
        data = await request.read()
        store.blobs[request.match_info["blob_id"]] = data
        return web.Response(status=200, headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    async def get_blob(request: web.Request) -> web.Response:
        data = store.blobs.get(request.match_info["blob_id"])
        if data is None:
            return web.Response(status=404, text="NoSuchKey")
        return web.Response(body=data, content_type="application/octet-stream")

    async def get_block(request: web.Request) -> web.Response:
        block = store.blocks.get(request.match_info["digest"])
        if block is None:
            return web.Response(status=404, text="no such block")
        offset = int(request.query.get("offset", "0"))
        length = int(request.query.get("length", str(len(block) - offset)))
        return web.Response(body=block[offset : offset + length], content_type="application/octet-stream")

    app.router.add_put("/blob/{blob_id}", put_blob)
    app.router.add_get("/blob/{blob_id}", get_blob)
    app.router.add_get("/block/{digest}", get_block)
