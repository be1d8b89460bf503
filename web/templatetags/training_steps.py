"""``{% load training_steps %}`` then ``{{ run.current_step|translated_step }}``: a stored training
step in the reader's language (``credit/steps.py``)."""

from django import template
from django.utils.translation import gettext

from credit.steps import translated_step as translate

register = template.Library()


@register.filter
def translated_step(stored):
    return translate(stored or "", gettext)
