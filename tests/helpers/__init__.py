"""Builders shared by the test modules. A test module imports from here, never from another test
module or a conftest; fixtures stay in the conftest.py files, which import what they need from here
(tests/test_layout.py checks both)."""
