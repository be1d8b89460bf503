"""Date formats of the site, one rule for both languages (``FORMAT_MODULE_PATH`` in the settings).

Every date is written day, abbreviated month, year — ``6 Dec 2026`` / ``6 Des 2026`` — and every time
on the 24-hour clock (``6 Dec 2026 06:42``; Indonesian writes ``06.42``, as PUEBI does), in the pages,
the charts and the Django admin alike: no ``12/06/2026`` that reads as June to one reader and as
December to another. Date inputs are day first (``06/12/2026``; ISO ``2026-12-06`` is accepted too).
Django's own locale modules still give everything not set here (number separators, first day of
the week).
"""
