"""Entry point of `streamlit run app.py`: the app's pages, named and ordered for the navigation.

Each page is its own script under pages/ and calls `page_setup` first, so sign-in, the workspace
picker and the model banner are the same everywhere. Declaring the pages here (instead of letting
Streamlit list pages/ by file name) is what lets the chat page be called "Chat" rather than "app".
"""

import streamlit as st

PAGES = [
    st.Page("pages/1_Chat.py", title="Chat", icon=":material/forum:", url_path="chat", default=True),
    st.Page("pages/2_Documents.py", title="Documents", icon=":material/folder_open:", url_path="Documents"),
    st.Page("pages/3_Traces.py", title="Traces", icon=":material/timeline:", url_path="Traces"),
    st.Page("pages/4_Settings.py", title="Settings", icon=":material/settings:", url_path="Settings"),
]

st.navigation(PAGES).run()
