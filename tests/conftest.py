"""The workbook's own tests import their shared builders from helpers.py, beside this file."""
