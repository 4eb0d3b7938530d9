{# The model has no rows: for findings (a warn test lists them when present). #}
{% test has_no_rows(model) %}
select * from {{ model }}
{% endtest %}
