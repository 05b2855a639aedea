"""The Gradio face of the library: one module per tab, each only wiring widgets to library calls.

``app.py`` puts the tabs together; ``forms.py`` builds a form from a stage config,
``monitor.py`` watches a run, ``choices.py`` holds the menus several tabs offer,
``sessions.py`` gives each browser its own workspace in hosted mode, ``common.py``
small display helpers.
"""
