"""Rebuild the public ladders in this folder from their repositories (not run by the tests).

    git clone https://github.com/mlfoundations/scaling            # MIT, commit a003c49
    git clone https://github.com/huggingface/datablations        # Apache-2.0, commit 1370131
    python tests/data/extract_public_ladders.py scaling datablations

gadre_rpj.csv: every open_lm model trained on RedPajama (exp_data/models/rpj-*.json) with its
hyperparameters and its loss on each validation set (Gadre et al. 2024, arXiv 2403.08540).
muennighoff_c4.csv: the 182 runs that utils/parametric_fit.ipynb fits (Muennighoff et al. 2023,
arXiv 2305.16264): the notebook's own cells build the lists, so the runs are exactly the paper's.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import pathlib
import sys
import types

HERE = pathlib.Path(__file__).parent


def gadre(repo: pathlib.Path) -> None:
    rows = []
    for path in sorted((repo / "exp_data" / "models").glob("rpj-*.json")):
        record = json.loads(path.read_text())
        hyper = record["hyperparameters"]
        for result in record["results"]:
            val = result["val_data"][0].split("/")
            name = val[-1].split(".")[0] if "de-en" in val[-2] else val[-2]
            rows.append(
                {
                    "name": record["name"],
                    "model": hyper["model"].split("/")[-1].split(".")[0],
                    "N": hyper["params"],
                    "D": hyper["tokens"],
                    "multiplier": hyper["chinchilla_multiplier"],
                    "val": name,
                    "loss": result["loss"],
                }
            )
    with open(HERE / "gadre_rpj.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def muennighoff(repo: pathlib.Path) -> None:
    notebook = json.loads((repo / "utils" / "parametric_fit.ipynb").read_text())
    for name in ("matplotlib", "matplotlib.pyplot"):  # the cells import it; nothing is drawn
        sys.modules[name] = types.ModuleType(name)
    sys.modules["matplotlib"].pyplot = sys.modules["matplotlib.pyplot"]  # type: ignore[attr-defined]
    cells: dict[str, object] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for index in (25, 26):  # the runs' losses, then the lists N, D, U_D, loss
            exec("".join(notebook["cells"][index]["source"]), cells)
    with open(HERE / "muennighoff_c4.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "N", "D", "unique_tokens", "loss"])
        columns = ("names", "model_params", "tokens", "unique_tokens", "losses")
        writer.writerows(zip(*(cells[c] for c in columns)))  # type: ignore[call-overload]


if __name__ == "__main__":
    gadre(pathlib.Path(sys.argv[1]))
    muennighoff(pathlib.Path(sys.argv[2]))
