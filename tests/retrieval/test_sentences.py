"""Passages completed to whole sentences from the chunks beside them (crew.retrieval.sentences)."""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from crew.retrieval.sentences import REACH, lead_in, run_on, whole

PAGE = (
    "El paquete build-essential trae lo necesario para compilar.\n"
    "Existen diferentes modos de borrar completamente la información de un disco duro como dispositivo, p. ej.\n"
    "una memoria USB ubicada en /dev/sda. Antes de ejecutar las órdenes que le vamos a mostrar, compruebe la\n"
    "ubicación de su memoria USB por medio de mount. El dispositivo que indica /dev/sda puede ser un disco duro\n"
    "que contiene su sistema.\n"
    "9.8.9. Borrar las áreas sin usar\n"
    "Borre todo el contenido del disco poniendo a cero toda la información como se muestra.\n"
)


def chunks(text: str, size: int = 160, overlap: int = 60) -> list[str]:
    """The page cut as ingest cuts it: at line breaks, with overlap."""
    return RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap).split_text(text)


def test_a_chunk_that_starts_inside_a_sentence_gets_its_beginning_from_the_chunk_before():
    parts = chunks(PAGE)
    inside = next(i for i, p in enumerate(parts) if i and p[:1].islower())
    completed = whole(parts[inside - 1], parts[inside], None)
    assert completed.endswith(parts[inside]) and len(completed) > len(parts[inside])
    assert not completed[:1].islower()
    assert completed.startswith("Existen diferentes modos")
    assert completed in PAGE  # the words as the page has them, in order, nothing invented


def test_a_chunk_that_stops_inside_a_sentence_gets_its_end_from_the_chunk_after():
    text = "Existen diferentes modos de borrar completamente la información de un disco duro como"
    after = "de borrar completamente la información de un disco duro como dispositivo.\nOtra frase."
    assert run_on(text, after) == " dispositivo."
    assert whole(None, text, after) == text + " dispositivo."


def test_nothing_is_added_where_the_chunk_already_begins_or_ends_a_sentence():
    before = "La primera frase acaba aquí. "
    text = "La segunda empieza con mayúscula y acaba con un punto."
    assert lead_in(before + text[:50], text) == ""
    assert run_on(text, text[-50:] + " La tercera.") == ""


def test_a_heading_or_new_sentence_on_the_next_line_is_not_joined_on():
    text = "Así se comprueba la ubicación de su memoria USB antes de borrarla\n9.8.9. Borrar las áreas sin usar"
    assert run_on(text, "emoria USB antes de borrarla\n9.8.9. Borrar las áreas sin usar\nBorre todo el disco.") == ""


def test_neighbours_that_do_not_overlap_are_joined_where_the_splitter_cut_them():
    # Lines longer than the overlap leave none: the chunks are consecutive pieces of the page, cut at a line break.
    before = "Primera frase. Existen diferentes modos de borrar completamente un disco duro, p. ej."
    assert lead_in(before, "una memoria USB en /dev/sda.") == "Existen diferentes modos de borrar completamente un disco duro, p. ej.\n"
    assert run_on("Compruebe la ubicación de su memoria", "USB por medio de mount. Otra.") == ""  # not lower-case
    assert run_on("Compruebe la ubicación de su memoria", "usb por medio de mount. Otra.") == "\nusb por medio de mount."


def test_a_short_line_before_the_cut_is_a_heading_or_a_cell_and_is_not_taken():
    before = "Fin de la sección anterior.\n8.4. La orden mc\nAlgunas de las operaciones de comprobación del paquete descritas pueden hacerse con un"
    assert lead_in(before, "gestor de ficheros como mc(1).") == (
        "Algunas de las operaciones de comprobación del paquete descritas pueden hacerse con un\n")
    table = "Cuadro 9.1: herramientas\npaquete popularidad tamaño\nconsole-setup V:95 425 Utilidades de teclado"
    assert lead_in(table, "kbd V:90 1234 herramientas de consola") == ""


def test_a_sentence_that_started_too_far_back_is_not_completed():
    long_sentence = "Esta frase " + "sigue y " * (REACH // 8 + 10)
    before = "Fin de la anterior. " + long_sentence
    text = before[-60:] + "y por fin acaba."
    assert text[:1].islower()
    assert lead_in(before, text) == ""

