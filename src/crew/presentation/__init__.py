"""What the pages show, without Streamlit: safe text, turn and trace views, library rows."""
