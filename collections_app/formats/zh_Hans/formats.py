# Chinese banks group amounts by thousands with commas (¥1,234.50), not Django's default
# zh_Hans grouping of 4 with no separator. Dates keep Django's zh_Hans formats (2026年3月5日).
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
