"""Grounded answers: every sentence checked against the passage it cites, quotes when the draft does
not hold up, and "not found" when nothing relevant was found."""

from __future__ import annotations

import json

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.grounding.extractive import MAX_QUOTED, extract, follow, headings_of, rank, relevance, units
from crew.grounding.names import names_in, unmentioned
from crew.grounding.settle import Thresholds, settle
from crew.grounding.support import check, is_furniture, sentences, support
from tests.servers import run_cli

TEA = ("Green tea is made from the unoxidised leaves of Camellia sinensis. A cup of green tea holds about "
       "30 mg of caffeine. Black tea is oxidised before it is dried.")
BUILD = ("Para compilar el paquete ejecuta dpkg-buildpackage -us -uc en el directorio de las fuentes. "
         "El resultado queda en el directorio padre.")


def ev(text: str, n: int = 0, similarity: float = 0.0, source: str = "tea.md") -> dict:
    return {"text": text, "source": source, "page": 0, "place": "", "url": "", "chunk_id": f"c{n}",
            "kind": "documents", "score": 1.0, "similarity": similarity, "question": 0, "rank": n}


# The check itself --------------------------------------------------------------------------------

def test_a_copied_sentence_is_supported_and_an_invented_one_is_not():
    assert support("A cup of green tea holds about 30 mg of caffeine.", TEA) == 1.0
    assert support("Green tea was invented by the ASNAnt module in Python 3.0.", TEA) < 0.6


def test_a_number_the_passage_lacks_makes_a_sentence_unsupported():
    assert support("A cup of green tea holds about 45 mg of caffeine.", TEA) == 0.0


def test_a_garbled_name_or_code_makes_a_sentence_unsupported():
    passage = "Debian uses user private groups (UPG) by default. Run dpkg-buildpackage -us -uc to build."
    assert support("Debian uses user private groups (UPG) by default.", passage) == 1.0
    # The words around it match; the acronym the model garbled does not.
    assert support("Debian uses user private groups (UMG) by default.", passage) == 0.0
    assert support("Run dpkg-buildpage to build.", passage) == 0.0


def test_words_match_across_inflections_and_accents():
    assert support("Compilando el paquete con dpkg-buildpackage en el directorio de fuentes.", BUILD) >= 0.6


def test_sentences_keep_their_citations_and_lose_bullets():
    assert sentences("- Tea has caffeine [1]. It is green [2][3].\n2) Done.") == [
        ("Tea has caffeine.", [1]), ("It is green.", [2, 3]), ("Done.", [])]


def test_check_recites_a_wrong_citation_and_flags_what_no_passage_supports():
    report = check("A cup of green tea holds about 30 mg of caffeine [2]. The moon is made of cheese [1].",
                   [TEA, "Black coffee is bitter."])
    first, second = report.sentences
    assert first.supported and first.citations == [1] and first.recited
    assert not second.supported and second.citations == [1]
    assert report.text(only_supported=True) == "A cup of green tea holds about 30 mg of caffeine [1]."


def test_a_number_must_stand_where_the_sentences_words_do():
    passage = ("Este modo numérico utiliza 3 o 4 dígitos en\nbase octal (base 8).\ndígito significado\n"
               "1º dígito (opcional) suma de set user ID (=4), set group ID (=2) y sticky bit (=1)\n")
    assert support("Este modo numérico utiliza 3 o 4 dígitos en base octal.", passage) == 1.0
    # 1 and 2 are in the passage, but in a table row that says nothing of the mode's digits.
    assert support("Este modo numérico utiliza 1 o 2 dígitos en base octal.", passage) == 0.0
    assert support("El sticky bit suma 1 y el set group ID suma 2.", passage) > 0.6


def test_a_sentence_must_be_backed_by_one_place_in_the_passage_not_words_from_all_over_it():
    passage = ("Owls hunt mice at night. Herons wade in shallow lakes. Larks sing above the fields. "
               "Swifts sleep while flying. Storks nest on chimneys. Kestrels hover over meadows.")
    assert support("Owls hunt mice at night.", passage) == 1.0
    assert support("Herons wade and larks sing above shallow lakes.", passage) == 1.0  # two sentences side by side
    # Every word is in the passage, but gathered from its first and last sentences.
    assert support("Owls and herons hover over meadows.", passage) == 0.5


def test_a_repeated_sentence_is_kept_once():
    passage = "A cup of green tea holds about 30 mg of caffeine."
    report = check("A cup of green tea holds about 30 mg of caffeine [1]. " * 3, [passage])
    assert len(report.sentences) == 3 and len(report.kept()) == 1
    assert report.text(only_supported=True) == "A cup of green tea holds about 30 mg of caffeine [1]."


def test_prompt_echo_and_page_furniture_never_count_as_answer_text():
    for line in ("Question:", "Sources:", "<<<", "Guía de referencia de Debian 108 / 244", "Page 3 of 10",
                 "1.2.13. tmpfs . . . . . . . . . . . . . . . . 16", "9.2.5 diffoscope . . . . . . . . 99",
                 "Write a short answer to the question, citing sources like [1]."):
        assert is_furniture(line), line
    assert not is_furniture("Debian 12 ships 64,419 packages.")
    report = check("Sources:\n<<<\nA cup of green tea holds about 30 mg of caffeine [1].\n>>>", [TEA])
    assert [s.text for s in report.sentences] == ["A cup of green tea holds about 30 mg of caffeine."]


# Quotes and "not found" ----------------------------------------------------------------------------

def test_the_extractive_answer_quotes_the_sentence_that_answers():
    chosen = extract("How much caffeine does a cup of green tea have?", [TEA, BUILD])
    assert chosen[0].text == "A cup of green tea holds about 30 mg of caffeine." and chosen[0].n == 1


# As pypdfium2 reads a page of the Spanish Debian reference (debian-reference.es.pdf, p. 53): prose wrapped at the
# page's width, then a table whose rows have no end marks.
WRAPPED = ("Si esta ejecutando un sistema con la distribución «inestable», no querrá usar las actualizaciones\n"
           "automáticas ya que con toda seguridad el sistema se romperá en algún momento.\n"
           "1.2.3. Permisos\n"
           "chmod 600 foo el archivo existente «foo» únicamente tiene permisos de lectura y\n"
           "escritura para el dueño (y no se permite la ejecución por nadie)\n"
           "chmod 644 foo\n"
           "hace que un archivo existente «foo» pueda ser leido por cualquiera,\n"
           "que únicamente el dueño pueda escribir sobre él (y nadie puede\n"
           "ejecutarlo)\n"
           "chmod 755 foo hace que un archivo «foo» pueda ser leido por cualquiera y\n"
           "modificado solo por el dueño (cualquiera puede ejecutarlo)")
# A longer table of the same PDF (p. 88): rows of a command, its argument and what it does, and no full stop.
TABLE = ("dpkg --audit auditoria del sistema referente a paquete instalados parcialmente\n"
         "dpkg --configure -a configura todos los paquetes instalados parcialmente\n"
         "apt-cache policy\nnombre_del_paquete_binario\n"
         "muestra la versión, la prioridad y la información del repositorio de un\npaquete binario\n"
         "apt-cache madison\nnombre_del_paquete\n"
         "muestra la versión disponible y la informacion del repositorio de un\npaquete\n"
         "apt-cache showsrc\nnombre_del_paquete_binario\n"
         "muestra la información del paquete fuente que corresponde con el\npaquete binario")


def test_a_sentence_the_page_wrapped_is_quoted_whole_and_a_heading_stays_apart():
    got = units(WRAPPED)
    assert got[0] == ("Si esta ejecutando un sistema con la distribución «inestable», no querrá usar las actualizaciones "
                      "automáticas ya que con toda seguridad el sistema se romperá en algún momento.")
    assert got[1] == "1.2.3. Permisos"


def test_a_wrapped_line_that_starts_with_a_measurement_is_no_heading():
    # The expEYES-17 manual (eyes17-manuals-es) wraps a range onto its own line; "3 Experiencias" is a heading.
    lab = ("ExpEYES tiene un terminal marcado SEN, que se puede utilizar para medir resistencias en el intervalo\n"
           "100 Ω à 100 kΩ.\nSEN GND")
    assert units(lab)[0] == ("ExpEYES tiene un terminal marcado SEN, que se puede utilizar para medir resistencias en "
                             "el intervalo 100 Ω à 100 kΩ.")
    assert units("El montaje se describe en el capítulo siguiente, donde se verá cómo medir la\n"
                 "3 Experiencias escolares\nObjetivo")[1] == "3 Experiencias escolares"


def test_a_sentence_that_asks_is_never_quoted_as_an_answer():
    # A lab manual's exercise question stands among the answers' sentences (eyes17-manuals-es, p. 45).
    passage = ("Se puede ver que el condensador se carga y después mantiene la tensión durante la parte vacía del ciclo. "
               "¿Se pueden utilizar condensadores de gran capacidad para reducir la fluctuación de voltaje?")
    quoted = [c.text for c in extract("¿Para qué sirve un condensador de gran capacidad en un rectificador?", [passage])]
    assert quoted and not any(q.endswith("?") for q in quoted)
    # Nor does a drafted sentence that asks stand as an answer, though its words are all in the passage: the embedded
    # model echoed "Después de ejecutar dh_make, ¿cómo se llama la copia...?" with a citation.
    report = check("¿Se pueden utilizar condensadores de gran capacidad para reducir la fluctuación de voltaje? [1]",
                   [passage])
    assert [s.supported for s in report.sentences] == [False]


def test_an_abbreviation_does_not_end_a_sentence():
    text = ("Existen diferentes modos de borrar un disco duro, p. ej. una memoria USB ubicada en /dev/sda. "
            "Use a tool, e.g. shred. It overwrites the disk.")
    assert [t for t, _ in sentences(text)] == [
        "Existen diferentes modos de borrar un disco duro, p. ej. una memoria USB ubicada en /dev/sda.",
        "Use a tool, e.g. shred.", "It overwrites the disk."]


def test_a_section_heading_is_never_quoted_as_an_answer():
    passage = ("6.3.9. Resolución de problemas de SSH\n"
               "Si las conexiones ssh a un sitio remoto dejan de funcionar, borre la clave del equipo de ~/.ssh/known_hosts.")
    assert units(passage)[0] == "6.3.9. Resolución de problemas de SSH"  # a unit of the page still
    quoted = [c.text for c in extract("¿Qué hago si falla la conexión SSH a un servidor?", [passage])]
    assert quoted and not any(q.startswith("6.3.9.") for q in quoted)
    # A heading that asks, as a FAQ's do, is a heading all the same.
    faq = "2.7.11. ¿Quién sube los paquetes?\nLos desarrolladores oficiales suben los paquetes con dupload."
    assert [c.text for c in extract("¿Quién puede subir paquetes?", [faq])] == [faq.splitlines()[1]]
    # An unnumbered heading is known by the place the passage stands under (an HTML page's heading path).
    page = ("pickle — Python object serialization\n"
            "The pickle module implements binary protocols for serializing and de-serializing a Python object.")
    question = "How do I serialize a Python object with pickle?"
    assert "pickle — Python object serialization" in [c.text for c in rank(question, [page])]
    headings = headings_of(["pickle — Python object serialization > Module Interface"])
    assert [c.text for c in rank(question, [page], headings=headings)] == [page.splitlines()[1]]


def test_a_quote_that_announces_what_follows_comes_with_it():
    passage = ("The first line of this entry must explicitly mention that this upload is an NMU, e.g.:\n"
               "* Non-maintainer upload.\n"
               "If the NMU is a security upload, say so in the first line too.\n"
               "5.11.3. Using the DELAYED/ queue\n"
               "After asking for permission to NMU, you should upload the package to DELAYED/.")
    question = "What do I write on the first line of the changelog entry of an upload of someone else's package?"
    quoted = [c.text for c in extract(question, [passage], max_sentences=1)]
    assert quoted == ["The first line of this entry must explicitly mention that this upload is an NMU, e.g.: "
                      "Non-maintainer upload."]  # the list's bullet is layout
    # Never past a heading or the budget; a box's label is skipped.
    head = "Install it as follows:\nnota\nRun sudo apt install foo as root.\n2.1. Next section\nMore text here."
    assert follow("Install it as follows:", head) == "Install it as follows: Run sudo apt install foo as root."
    assert follow("Install it as follows:", "Install it as follows:\n2.1. Next section") == "Install it as follows:"
    long = "Run this:\n" + "word " * 100
    assert follow("Run this:", long, max_chars=40).endswith(" …") and len(follow("Run this:", long, max_chars=40)) < 55


def test_table_rows_without_end_marks_are_quoted_as_runs_of_lines():
    got = units(TABLE)
    assert "apt-cache policy nombre_del_paquete_binario muestra la versión, la prioridad y la información del " \
           "repositorio de un" in got
    assert all(len(u) <= 450 for u in got)
    # A table short enough is one unit, its rows together.
    assert any("chmod 644 foo hace que" in u and "chmod 755 foo" in u for u in units(WRAPPED))


def test_the_quotes_name_the_command_and_stay_short():
    chosen = extract("¿Con qué orden consigo que cualquiera pueda leer un archivo existente, que únicamente el dueño "
                     "pueda escribir y que nadie lo ejecute?", [WRAPPED, BUILD])
    assert "chmod 644 foo hace que un archivo existente «foo» pueda ser leido" in chosen[0].text
    assert sum(len(c.text) for c in chosen) <= MAX_QUOTED
    chosen = extract("¿Cómo veo desde qué repositorio y con qué prioridad se instalaría un paquete?", [TABLE])
    assert "apt-cache policy" in " ".join(c.text for c in chosen)
    # Overlapping runs of one row say the same thing, whatever neighbouring command each carries: quoted once.
    assert sum("muestra la versión, la prioridad" in c.text for c in chosen) == 1


def test_units_far_below_the_best_do_not_fill_the_answer():
    lists = "Write to the debian-mentors@lists.debian.org mailing list with questions. IRC has #debian-mentors too."
    chosen = extract("How much caffeine does a cup of green tea have?", ["A cup of green tea holds about 30 mg of caffeine.", lists])
    # Room was left for two more quotes, but nothing of the second passage comes near the answer.
    assert [c.text for c in chosen] == ["A cup of green tea holds about 30 mg of caffeine."]


def test_the_best_unit_is_quoted_even_when_longer_than_the_budget():
    long = "A cup of green tea holds about 30 mg of caffeine, " + "and more words follow in this sentence " * 6 + "."
    chosen = extract("How much caffeine does a cup of green tea have?", [long], max_chars=120)
    assert len(chosen) == 1 and chosen[0].text.startswith("A cup of green tea holds about 30 mg")
    assert chosen[0].text.endswith(" …") and len(chosen[0].text) <= 122


def test_relevance_sees_no_overlap_for_an_unrelated_question():
    words, _ = relevance("Who won the 1998 football world cup?", [TEA, BUILD])
    assert words < Thresholds().relevance_words
    words, _ = relevance("How much caffeine is in green tea?", [TEA, BUILD])
    assert words >= Thresholds().relevance_words


def test_settle_keeps_the_supported_part_of_a_good_draft():
    draft = ("Green tea has about 30 mg of caffeine in each cup [1]. It is made from the leaves of Camellia sinensis [1]. "
             "It cures colds [1].")
    settled = settle("How much caffeine is in green tea?", [ev(TEA)], [draft], "English")
    assert settled.kind == "written"
    assert "cures colds" not in settled.answer and "30 mg" in settled.answer
    assert all(s["supported"] for s in settled.sentences) and len(settled.sentences) == 2
    assert settled.notes and "left out" in settled.notes[0]


def test_settle_quotes_the_sources_when_the_draft_does_not_hold_up():
    settled = settle("How much caffeine is in green tea?", [ev(TEA), ev(BUILD, 1)],
                     ["Green tea has 90 mg. It was discovered in 1492 by sailors."], "English")
    assert settled.kind == "extractive"
    lines = settled.answer.splitlines()
    assert lines[0].startswith("I could not write an answer the sources fully support")
    assert "“A cup of green tea holds about 30 mg of caffeine.” [1]" in lines[1]
    assert settled.cited[0] == 1


def test_settle_says_not_found_in_the_language_of_the_question():
    settled = settle("¿Quién ganó el mundial de fútbol de 1998?", [ev(TEA), ev(BUILD, 1)],
                     ["Francia ganó [1]."], "Spanish")
    assert settled.kind == "not_found"
    assert settled.answer.startswith("Los documentos no responden a esta pregunta.")
    assert settled.sentences == []


def test_the_names_a_question_asks_about():
    assert names_in("¿Cómo monto una VPN con WireGuard entre mi portátil y Amazon EC2?") == ["VPN", "WireGuard", "Amazon", "EC2"]
    assert names_in("What tool turns a Rust crate from crates.io into a package with tag2upload?") == [
        "Rust", "crates.io", "tag2upload"]
    assert names_in("How do I upgrade with do-release-upgrade and enable EPEL?") == ["do-release-upgrade", "EPEL"]
    # Not names: a capital that opens a sentence, a short capitalised word, a path given as an example, a unit.
    assert names_in("Is it OK to check a disk? How do I mount /dev/sda3 on a 64-bit system?") == []
    assert names_in("¿Dónde está? Dime cómo se hace. ¿Y cuánto tarda?") == []


def test_a_name_is_mentioned_whatever_its_case_accents_or_hyphens():
    passages = ["Configure the WIREGUARD interface.", "Ejecute do release upgrade en Ubuntu.", "Haga una NMU."]
    assert unmentioned("How do I set up WireGuard, do-release-upgrade and Ubuntu?", passages) == []
    assert unmentioned("¿Quién puede hacer NMUs en Ubuntu?", passages) == []
    assert unmentioned("What does dict.get return?", ["get(key, default=None): Return the value for key."]) == []
    assert unmentioned("How do I read pyproject.toml?", ["Read the project file."]) == ["pyproject.toml"]
    assert unmentioned("How do I set up WireGuard with Podman and Amazon EC2?", passages) == ["Podman", "Amazon", "EC2"]


def test_settle_says_not_found_when_no_passage_names_what_was_asked_about():
    # The passage is close in meaning (similarity far above the threshold) and shares the question's words,
    # but it is about another VPN: quoting it would answer another question.
    vpn = "To set up a VPN between two machines, install openvpn and copy the key to both ends."
    for question, language, mark in [("How do I set up a VPN with WireGuard between two machines?", "English",
                                      "None of the passages found mentions “WireGuard”."),
                                     ("¿Cómo monto una VPN con WireGuard y Tailscale entre dos máquinas?", "Spanish",
                                      "Ninguno de los pasajes encontrados menciona «WireGuard» ni «Tailscale».")]:
        settled = settle(question, [ev(vpn, similarity=0.9)], ["Install openvpn [1]."], language)
        assert settled.kind == "not_found"
        first = settled.answer.splitlines()[0]
        assert mark in first and first.endswith(":"), first
    # The same question on a passage that does name it is answered.
    wg = vpn.replace("openvpn", "wireguard")
    settled = settle("How do I set up a VPN with WireGuard between two machines?", [ev(wg, similarity=0.9)],
                     ["To set up a VPN between two machines, install wireguard [1]."], "English")
    assert settled.kind in ("written", "extractive") and "wireguard" in settled.answer


# Whole turns ---------------------------------------------------------------------------------------

def _crew(make_crew, writer: list, critic: list | None = None, **overrides):
    crew = make_crew({"coordinator": [Plan(subquestions=["q"])] * 2, "writer": writer,
                      "critic": critic or [Review(decision="approve")] * 3}, **{"grounded": True, **overrides})
    crew.ingest("w", "tea.md", TEA.encode())
    return crew


def test_a_partly_supported_draft_goes_back_with_the_bad_sentence_named(make_crew):
    partly = "Green tea holds about 30 mg of caffeine per cup [1]. It was first brewed on the moon [1]."
    crew = _crew(make_crew, [partly, partly, partly])
    turn = crew.run_turn("w", "t", "How much caffeine is in a cup of green tea?")
    events = list(turn)
    verdicts = [e for e in events if e.kind == "verdict"]
    assert [v.data["decision"] for v in verdicts] == ["revise", "revise", "revise"]
    assert "moon" in verdicts[0].data["notes"][0] and verdicts[0].data["by"] == "support check"
    assert crew.models["critic"].calls == []  # the support check spoke first: no model call spent
    assert "moon" in crew.models["writer"].calls[1]["messages"][-1].content  # the writer was told
    result = turn.result
    assert result.limit_hit == "max_revisions"
    assert result.answer_kind == "written" and result.answer == "Green tea holds about 30 mg of caffeine per cup [1]."
    assert "moon" not in result.answer and any("left out" in n for n in result.notes)


def test_a_draft_with_nothing_supported_is_not_revised_but_quoted(make_crew):
    invented = "Green tea has 90 mg of caffeine per cup [1]."
    crew = _crew(make_crew, [invented, invented, invented])
    turn = crew.run_turn("w", "t", "How much caffeine is in a cup of green tea?")
    events = list(turn)
    assert [e.data["decision"] for e in events if e.kind == "verdict"] == ["quote"]
    assert len(crew.models["writer"].calls) == 1 and crew.models["critic"].calls == []
    result = turn.result
    assert result.limit_hit is None and result.status == "done"
    assert result.answer_kind == "extractive" and "30 mg" in result.answer and "90 mg" not in result.answer
    assert result.citations[0]["source"] == "tea.md"
    assert result.sentences and all(s["supported"] for s in result.sentences)


def test_a_supported_draft_reaches_the_model_critic_and_is_kept(make_crew):
    crew = _crew(make_crew, ["Green tea holds about 30 mg of caffeine per cup [1]."])
    result = crew.run_turn("w", "t", "How much caffeine is in a cup of green tea?").run()
    assert len(crew.models["critic"].calls) == 1
    assert result.answer_kind == "written"
    assert result.answer == "Green tea holds about 30 mg of caffeine per cup [1]."
    assert result.to_json()["sentences"] == [{"text": "Green tea holds about 30 mg of caffeine per cup.",
                                              "citations": [1], "support": 0.875, "supported": True}]


def test_nothing_relevant_skips_the_writer_and_says_so(make_crew):
    crew = _crew(make_crew, ["Brazil won [1]."])
    result = crew.run_turn("w", "t", "Who won the 1998 football world cup final?").run()
    assert crew.models["writer"].calls == []
    assert result.to_json()["not_found"] is True
    assert result.answer.startswith("The documents do not answer this question.")
    assert result.citations and result.citations[0]["source"] == "tea.md"  # the closest passage, shown


def test_free_generation_keeps_the_draft_as_written(make_crew):
    crew = _crew(make_crew, ["Green tea has 90 mg of caffeine per cup [1]."], grounded=False)
    result = crew.run_turn("w", "t", "How much caffeine is in a cup of green tea?").run()
    assert result.answer == "Green tea has 90 mg of caffeine per cup [1]." and result.answer_kind == "written"


def test_the_cli_json_gives_each_sentence_its_support(tmp_path):
    doc = tmp_path / "tea.md"
    doc.write_text(TEA)
    assert run_cli("ingest", str(doc), "--workspace", "w").returncode == 0
    out = run_cli("run", "How much caffeine is in a cup of green tea?", "--workspace", "w", "--json",
                  env={"CREW_MODEL": "fake"})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["sentences"] and all(set(s) == {"text", "citations", "support", "supported"} for s in result["sentences"])
    assert all(s["supported"] for s in result["sentences"]) and result["not_found"] is False


def test_a_draft_that_only_copies_lines_of_the_passages_is_quoted_by_the_question_instead():
    # As the embedded model answered "¿Para qué sirve el archivo debian/watch?" on the Spanish packaging guide: a link
    # line of another page, copied word for word, which the support check alone passes.
    watch = ("El archivo watch configura el programa uscan, que comprueba si el autor ha publicado una versión nueva "
             "del código fuente y la descarga.")
    links = "Debian Wiki, HelpDebian (https://wiki.debian.org/HelpDebian) (documentación complementaria)"
    evidence = [ev(watch, similarity=0.6), ev(links, similarity=0.4)]
    settled = settle("¿Para qué sirve el archivo debian/watch?", evidence, ["Debian Wiki, HelpDebian [2]"], "Spanish")
    assert settled.kind == "extractive" and "uscan" in settled.answer.splitlines()[1]  # the first quote
    assert "only copied" in settled.notes[0]
    # Written in the writer's own words (and supported), the draft is the answer.
    own = settle("¿Para qué sirve el archivo debian/watch?", evidence,
                 ["El archivo watch sirve para que uscan compruebe si hay una versión nueva y la descargue [1]."],
                 "Spanish")
    assert own.kind == "written" and own.answer.startswith("El archivo watch sirve")


def test_a_draft_is_copied_when_most_of_its_word_pairs_stand_in_the_passages():
    from crew.grounding.support import copied

    # Stitched from two places with a word dropped, as the embedded model does: still the passages' own words.
    stitched = check("Green tea is made from leaves of Camellia sinensis [1]. Black tea is oxidised before it is dried [1].",
                     [TEA])
    assert copied(stitched, [TEA])
    # A close paraphrase of one sentence is the writer's own (0.78 of its word pairs are the passage's).
    assert not copied(check("Green tea holds about 30 mg of caffeine per cup [1].", [TEA]), [TEA])
    assert not copied(check("It cures colds [1].", [TEA]), [TEA])  # nothing kept: nothing copied
