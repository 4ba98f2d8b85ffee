"""Templates ``dougong new`` writes from (files end in ``.tmpl`` so no tool mistakes them for code)."""
