"""The web layer: every interface of the product over the apps below it.

Pages (``pages/``, with their ``forms/`` and ``page_selectors/``), the REST API (``api/``, one
module per resource and one exception handler), the admin (``admin/``), charts, template tags and
the URL configuration (``urls.py``), and ``manage.py train`` (it reads the active decision policy's
recall target for training). It may import every app and ``credit``; nothing imports it.
"""
