{# Every row satisfies the expression (optionally only rows matching where_clause). #}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
