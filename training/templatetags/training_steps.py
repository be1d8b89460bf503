"""``{% load training_steps %}`` then ``{{ run.current_step|translated_step }}``: a stored training
step in the reader's language (``training/steps.py``)."""

from django import template

from training.steps import translated_step as translate

register = template.Library()


@register.filter
def translated_step(stored):
    return translate(stored or "")
