"""UI helpers shared by the chat page and the pages/ scripts (Streamlit only; not a page itself).

Streamlit lists only the `*.py` files directly inside pages/, so this package never shows up
in the navigation.
"""
