"""The API reference page (`/docs`), Swagger UI from assets this service serves itself: the
console build copies them out of the pinned `swagger-ui-dist` package (console/build.mjs), so
the page works on a machine with no internet, where FastAPI's default, loaded from a CDN, is
blank. ReDoc, which would need a CDN too, is not offered; `/openapi.json` is the document."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS = "/console/static/swagger"


def install(app: FastAPI) -> None:
    openapi_url = app.openapi_url or "/openapi.json"

    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    app.add_api_route("/docs", swagger_ui, include_in_schema=False, response_class=HTMLResponse)
