"""Sandbox area modules: each defines ``router = Router()`` with the endpoints of one API area, and
is listed in ``mg_tools.sandbox.app.AREAS``."""
