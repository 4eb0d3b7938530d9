{# Identity keys are compared after trimming and removing leading zeros (employee
   numbers) or trimming and lower-casing (emails): CONTRACT section 3. #}
{% macro normalise_employee_number(expr) -%}
    case
        when nullif(trim({{ expr }}), '') is null then null
        when ltrim(trim({{ expr }}), '0') = '' then '0'
        else ltrim(trim({{ expr }}), '0')
    end
{%- endmacro %}

{% macro normalise_email(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}

{# regexp capture group (1-based), null when no match #}
{% macro regex_extract(expr, pattern, group=1) -%}
    {{ return(adapter.dispatch('regex_extract', 'hris_lms_bridge')(expr, pattern, group)) }}
{%- endmacro %}

{% macro default__regex_extract(expr, pattern, group) -%}
    (regexp_match({{ expr }}, '{{ pattern }}'))[{{ group }}]
{%- endmacro %}

{% macro duckdb__regex_extract(expr, pattern, group) -%}
    nullif(regexp_extract({{ expr }}, '{{ pattern }}', {{ group }}), '')
{%- endmacro %}

{# lower-case, every non letter/digit -> space (one word list per title) #}
{% macro title_to_spaced_words(expr) -%}
    {{ return(adapter.dispatch('title_to_spaced_words', 'hris_lms_bridge')(expr)) }}
{%- endmacro %}

{% macro default__title_to_spaced_words(expr) -%}
    regexp_replace(lower({{ expr }}), '[^a-z0-9]+', ' ', 'g')
{%- endmacro %}

{# a lateral unnest of the space-separated words of expr: alias.word, alias.word_pos #}
{% macro split_words_join(expr, alias) -%}
    {{ return(adapter.dispatch('split_words_join', 'hris_lms_bridge')(expr, alias)) }}
{%- endmacro %}

{% macro default__split_words_join(expr, alias) -%}
    cross join lateral unnest(string_to_array({{ expr }}, ' ')) with ordinality as {{ alias }}(word, word_pos)
{%- endmacro %}

{% macro duckdb__split_words_join(expr, alias) -%}
    cross join unnest(string_split({{ expr }}, ' ')) with ordinality as {{ alias }}(word, word_pos)
{%- endmacro %}

{# SHA-1 hex digest of a text (xAPI mbox_sha1sum). Postgres needs the pgcrypto
   extension (create extension if not exists pgcrypto). #}
{% macro sha1_hex(expr) -%}
    {{ return(adapter.dispatch('sha1_hex', 'hris_lms_bridge')(expr)) }}
{%- endmacro %}

{% macro default__sha1_hex(expr) -%}
    encode(digest({{ expr }}, 'sha1'), 'hex')
{%- endmacro %}

{% macro duckdb__sha1_hex(expr) -%}
    sha1({{ expr }})
{%- endmacro %}
