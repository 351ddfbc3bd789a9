"""Sandbox area modules: each defines ``router = Router()`` with the endpoints of one API area."""
