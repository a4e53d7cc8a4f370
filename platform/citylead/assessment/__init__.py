"""Assessment (绩效评价, domain.md §6): counters → indicators → scores → composite → grade.

The formulas are pure; ``rollup`` counts case events into the ``assessment_counters`` table
(``models``), ``results`` scores the stored rows and rolls cities and the province up on read,
``access`` says who reads them, ``export`` turns them into a table, ``schedule`` refreshes the
current periods. See docs/assessment.md.

- ``counters``: :class:`Counters`, what happened to one subject's cases in one period;
- ``indicators``: :func:`indicator` (a :class:`Rate` or None) and :func:`score`;
- ``scores``: :func:`assess` → :class:`Assessment` from the tenant's effective rules;
- ``rollup``: ``count_period`` and ``do_refresh`` (import it from its module: it needs the database).
"""

from citylead.assessment.counters import Counters
from citylead.assessment.indicators import FORMULAS, Options, Rate, indicator, score, volume_score
from citylead.assessment.scores import GRADES, Assessment, assess, grade_of

__all__ = [
    "FORMULAS",
    "GRADES",
    "Assessment",
    "Counters",
    "Options",
    "Rate",
    "assess",
    "grade_of",
    "indicator",
    "score",
    "volume_score",
]
