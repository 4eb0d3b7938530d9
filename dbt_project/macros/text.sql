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

{# lower-case (NFC first, so a decomposed "e + accent" is the letter é), punctuation and white space
   -> one space (one word list per title). Letters, digits and marks of every script stay, accents
   included: "Développeur" is not "Developpeur" (the title_abbreviations seed can map one word to
   the other). The separators are code-point ranges, the same on both engines, rather than a class:
   DuckDB's RE2 reads [[:alnum:]] and \w as ASCII only and Postgres reads them by the database's
   locale, so no class splits alike on both (tests/dbt/test_title_normalisation.py). The ranges:
   ASCII and Latin-1 but letters and digits (ª µ º ² ½ stay), the punctuation of scripts whose blocks hold
   letters too (Greek, Armenian, Hebrew, Arabic, Devanagari, Thai, Ethiopic, ...), General Punctuation
   but the joiners ZWNJ/ZWJ (parts of words), CJK and fullwidth punctuation. #}
{% macro title_separator_ranges() -%}
    {{ return([
        (0x01, 0x2f), (0x3a, 0x40), (0x5b, 0x60),
        (0x7b, 0xa9), (0xab, 0xb1), (0xb4, 0xb4), (0xb6, 0xb8), (0xbb, 0xbb), (0xbf, 0xbf), (0xd7, 0xd7),
        (0xf7, 0xf7),
        (0x37e, 0x37e), (0x387, 0x387), (0x55a, 0x55f), (0x589, 0x58a), (0x5be, 0x5be), (0x5c0, 0x5c0),
        (0x5c3, 0x5c3), (0x5c6, 0x5c6), (0x5f3, 0x5f4), (0x60c, 0x60d), (0x61b, 0x61b), (0x61e, 0x61f),
        (0x66a, 0x66d), (0x6d4, 0x6d4), (0x964, 0x965), (0x970, 0x970), (0xe5a, 0xe5b),
        (0x1361, 0x1368), (0x166e, 0x166e), (0x1680, 0x1680), (0x1800, 0x180a),
        (0x2000, 0x200b), (0x200e, 0x206f),
        (0x2e00, 0x2e2e), (0x2e30, 0x2e7f), (0x3000, 0x3003), (0x3008, 0x3011), (0x3014, 0x301f), (0x30fb, 0x30fb),
        (0xfe10, 0xfe19), (0xfe30, 0xfe4f), (0xfe50, 0xfe6b), (0xfeff, 0xfeff),
        (0xff01, 0xff0f), (0xff1a, 0xff20), (0xff3b, 0xff40), (0xff5b, 0xff65),
    ]) }}
{%- endmacro %}

{% macro title_to_spaced_words(expr) -%}
    {{ return(adapter.dispatch('title_to_spaced_words', 'hris_lms_bridge')(expr)) }}
{%- endmacro %}

{# Postgres: \uXXXX escapes (standard strings keep the backslash for the regex) #}
{% macro default__title_to_spaced_words(expr) -%}
    regexp_replace(lower(normalize({{ expr }}, NFC)), '[
    {%- for lo, hi in title_separator_ranges() -%}
        \u{{ '%04x' | format(lo) }}-\u{{ '%04x' | format(hi) }}
    {%- endfor -%}
    ]+', ' ', 'g')
{%- endmacro %}

{# DuckDB (RE2): \x{...} escapes #}
{% macro duckdb__title_to_spaced_words(expr) -%}
    regexp_replace(lower(nfc_normalize({{ expr }})), '[
    {%- for lo, hi in title_separator_ranges() -%}
        \x{ {{- '%x' | format(lo) -}} }-\x{ {{- '%x' | format(hi) -}} }
    {%- endfor -%}
    ]+', ' ', 'g')
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
