"""lore's servers: REST + OpenAI-compatible embeddings + MCP over one ``IndexService``.

Nothing here is imported by ``import lore``; FastAPI, uvicorn, the ``mcp`` SDK
and watchfiles come with the ``serve`` extra (``pip install 'lore[serve]'``).
"""
