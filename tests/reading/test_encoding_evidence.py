"""The evidence that tells the older encodings apart, over small files in several Western
languages written in each of them: a decision is never wrong, and rarely missing."""

from __future__ import annotations

import pytest

from api.reading.encodings import CANDIDATES, Evidence, decide

TEXTS = {
    "Spanish": ["Año nuevo en la oficina", "Reclamación por daños", "Niño perdido en el parque"],
    "French": ["Facture impayée depuis janvier", "Fenêtre cassée", "Problème de chauffage"],
    "German": ["Straße gesperrt wegen Überschwemmung", "Lärm in der Nacht", "Müll liegt da"],
    "Portuguese": ["Iluminação pública apagada", "Reclamação de ruído"],
    "Nordic": ["Vej lukket ved Søndergade", "Trafikolycka på Storgatan", "Skadet bænk"],
    "money": ["Rechnung über 40 € offen", "Cœur du problème: une œuvre", "Amende de 90 €"],
    "one word": ["Café closed"],
    "capitals": ["CAFÉ FERMÉ", "RUE DE LA PAIX"],
    "a pound sign": ["Water supply complaint", "Street light out, £20 damage"],
}


def _csv(lines: list[str]) -> str:
    rows = "".join(f'A-{n},1,1/2/2024,"{text}"\r\n' for n, text in enumerate(lines))
    return "tag_id,case_status,date_opened,about\r\n" + rows


@pytest.mark.parametrize("encoding", CANDIDATES)
@pytest.mark.parametrize("language", TEXTS)
def test_the_decision_reads_the_file_as_written(encoding: str, language: str) -> None:
    text = _csv(TEXTS[language])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        pytest.skip(f"{encoding} cannot write {language}")
    evidence = Evidence()
    evidence.feed(data)
    chosen, _ = decide(evidence)
    assert chosen is not None, "unclear"
    # Encodings that agree on every byte of the file are equally right.
    assert data.decode(chosen) == text


def test_a_lone_letter_between_spaces_does_not_settle_it() -> None:
    evidence = Evidence()
    evidence.feed("A-1,1,1/2/2024,Grade \xe9 only\r\n".encode("cp1252"))
    assert decide(evidence)[0] is None
