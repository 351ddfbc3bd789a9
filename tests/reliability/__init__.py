"""Tests that the safety rules of docs/security.md hold for every registered operation."""
