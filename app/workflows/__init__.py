"""The station's domain: receive, inspect and grade, dispose, pack, approve.

Plain Python: no Flet, no HTTP. Reads reference data, returns refusals as values, emits operations.
"""
