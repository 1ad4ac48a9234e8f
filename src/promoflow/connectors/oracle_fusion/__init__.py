"""Oracle Fusion Cloud SCM connector (REST, /fscmRestApi/resources/11.13.18.05)."""
