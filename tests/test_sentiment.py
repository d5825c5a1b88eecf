"""French and English sentiment signs (domain/sentiment.py): VADER's rules with the vendored French
lexicon, French negation ("ne … pas" counted once, spoken "c'est pas"), elisions, accents and forms
missing from the lexicon (found by their stem)."""

from __future__ import annotations

import pytest

from cordee.domain.sentiment import label, score

FRENCH = [
    ("J'adore ce festival, les bénévoles sont formidables !", "positive"),
    ("On a adoré la soirée", "positive"),
    ("Je suis content du service", "positive"),  # "content" is not in the lexicon, "contente" is
    ("C'est genial", "positive"),  # no accent typed
    ("Quelle arnaque, le service était horrible", "negative"),
    ("Je déteste attendre", "negative"),
    ("C'est écœurant", "negative"),  # the lexicon writes "écoeurant"
    ("Ce n'est pas bon.", "negative"),
    ("Je n'aime pas ce film", "negative"),
    ("Je ne suis pas content", "negative"),
    ("Je ne l'ai jamais aimé", "negative"),
    ("Ce n'est pas mauvais", "positive"),
    ("C'est pas terrible", "positive"),  # "terrible" is negative; spoken French drops the "ne"
    ("Le repas était bon mais le service était horrible", "negative"),  # what follows "mais" weighs more
    ("Le train arrive à 8 h", "neutral"),
]


@pytest.mark.parametrize(("text", "expected"), FRENCH)
def test_french_sign(text: str, expected: str) -> None:
    assert label(score(text, "fr")) == expected, score(text, "fr")


def test_intensity_and_other_languages() -> None:
    assert score("C'est vraiment génial", "fr") > score("C'est génial", "fr") > 0
    assert score("C'est TRÈS mauvais", "fr") < score("C'est mauvais", "fr") < 0
    assert score("Super soirée 😀", "fr-FR") > 0 and score("Quelle catastrophe 😡", "fr") < 0
    assert score("I love it", "en") > 0 > score("I do not love it", None)
    assert score("Das ist wunderbar", "de") == 0.0 and score("   ", "fr") == 0.0
