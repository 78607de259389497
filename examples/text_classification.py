"""Text classification: Embedding(mask_zero=True) -> LSTM -> Dense on real English text.

    (batch, 32) token ids -> Embedding(mask_zero=True) -> LSTM(32) -> Dense(4, softmax)

The text is the Python language reference as it ships inside every CPython install
(``pydoc_data.topics``, the pages ``help("TOPIC")`` prints; PSF License v2, so no
download and no data file). Each sentence is labelled with the part of the reference it
comes from: "strings" (string methods, literals, format strings), "data model" (special
method names, attribute access, numeric and sequence emulation), "statements" (compound
and simple statements) or "debugger" (pdb). Sentences that occur under two labels are
dropped, so no sentence is in both the training and the test set.

Words are tokenised with a regular expression, unknown words become id 1, and the
sentences are zero-padded at the end; the Embedding's mask makes the LSTM skip the
padding. Exits with status 1 unless the test accuracy clearly beats the majority class.

Run: python examples/text_classification.py
"""

import collections
import re
import sys
from pydoc_data.topics import topics

import numpy as np

from rnnkit import Sequential
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Embedding
from rnnkit.utils import pad_sequences
from rnnkit.utils import set_random_seed

GROUPS = {
    "strings": ["formatstrings", "string-methods", "strings"],
    "data model": [
        "specialnames",
        "customization",
        "attribute-access",
        "numeric-types",
        "sequence-types",
    ],
    "statements": [
        "compound",
        "assignment",
        "import",
        "try",
        "raise",
        "with",
        "for",
        "function",
        "class",
        "async",
        "augassign",
    ],
    "debugger": ["debugger"],
}
MAX_WORDS = 32


def load_sentences() -> list[tuple[str, int]]:
    """(sentence as lower-case words, label) pairs; a sentence under two labels is dropped."""
    labels_of: dict[str, set[int]] = collections.defaultdict(set)
    for label, names in enumerate(GROUPS.values()):
        for name in names:
            for sentence in re.split(r"(?<=[.!?:])\s+|\n\s*\n", topics[name]):
                words = re.findall(r"[a-z_]+", sentence.lower())
                if len(words) >= 4:
                    labels_of[" ".join(words)].add(label)
    return sorted((text, labels.pop()) for text, labels in labels_of.items() if len(labels) == 1)


def main() -> int:
    set_random_seed(0)
    pairs = load_sentences()
    order = np.random.default_rng(0).permutation(len(pairs))
    pairs = [pairs[i] for i in order]
    n_test = len(pairs) // 5
    test, train = pairs[:n_test], pairs[n_test:]

    # vocabulary from the training sentences only: 0 = padding, 1 = unknown word
    counts = collections.Counter(word for text, _ in train for word in text.split())
    known = sorted(word for word, count in counts.items() if count >= 2)
    vocabulary = {word: index for index, word in enumerate(known, start=2)}

    def encode(rows):
        ids = [[vocabulary.get(word, 1) for word in text.split()] for text, _ in rows]
        x = pad_sequences(ids, maxlen=MAX_WORDS, padding="post", truncating="post")
        return x, np.array([label for _, label in rows])

    x_train, y_train = encode(train)
    x_test, y_test = encode(test)

    model = Sequential(
        [
            Embedding(len(vocabulary) + 2, 32, mask_zero=True),
            LSTM(32),
            Dense(len(GROUPS), activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=6, batch_size=32, verbose=0)

    accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    majority = np.bincount(y_test, minlength=len(GROUPS)).max() / len(y_test)
    print(
        f"text classification: {len(train)} training and {len(test)} test sentences, "
        f"{len(vocabulary)} words, {len(GROUPS)} classes; test accuracy {accuracy:.3f} "
        f"(majority class {majority:.3f})"
    )
    return 0 if accuracy > majority + 0.15 else 1


if __name__ == "__main__":
    sys.exit(main())
