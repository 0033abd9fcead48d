"""The report's words, in English and French, and the choice between them."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("en", "fr")

# key -> (English, French)
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Incident report", "Rapport d'incidents"),
    "server": ("Server", "Serveur"),
    "generated": ("Generated", "Établi le"),
    "origin": ("Drawn from", "Établi à partir de"),
    "origin.logs": ("the server logs given", "des journaux fournis"),
    "origin.store": ("the state store of the daemon", "de la base d'état du démon"),
    "period": ("Period covered", "Période couverte"),
    "none": ("none", "aucun"),
    "glance": ("At a glance", "En bref"),
    "glance.incidents": ("incidents", "incidents"),
    "glance.critical": ("critical", "critiques"),
    "glance.ongoing": ("possibly still going on", "peut-être encore en cours"),
    "glance.records": ("records concerned", "enregistrements concernés"),
    "glance.people": ("people (estimate)", "personnes (estimation)"),
    "glance.reachable": (
        "records reachable without authentication",
        "enregistrements accessibles sans authentification",
    ),
    "glance.blind": ("blind spots in supervision", "angles morts de la supervision"),
    "coverage": ("What the supervision covers", "Ce que couvre la supervision"),
    "coverage.source": ("source", "source"),
    "coverage.files": ("files", "fichiers"),
    "coverage.from": ("from", "du"),
    "coverage.to": ("to", "au"),
    "coverage.lines": ("lines read", "lignes lues"),
    "coverage.unparsed": ("not understood", "non comprises"),
    "coverage.store": (
        "The state store keeps alerts, not log lines: coverage per hour cannot be shown. "
        "source_silent incidents below say where a log stopped.",
        "La base d'état conserve les alertes, pas les lignes : la couverture heure par heure "
        "ne peut être montrée. Les incidents source_silent ci-dessous disent où un journal "
        "s'est tu.",
    ),
    "blind": ("Blind spots", "Angles morts"),
    "blind.rule": (
        "Rule: an hour is usually busy when the median number of lines at that hour of the "
        "day, over the days covered, is above zero (under 7 days of logs: when the median "
        "over all hours covered is above zero). A blind spot is a run of hours without any "
        "line that holds at least 3 usually busy hours: a gap in supervision, itself a "
        "finding.",
        "Règle : une heure est habituellement active quand le nombre médian de lignes à "
        "cette heure du jour, sur les jours couverts, est supérieur à zéro (moins de 7 jours "
        "de journaux : quand la médiane sur toutes les heures couvertes l'est). Un angle "
        "mort est une suite d'heures sans aucune ligne comprenant au moins 3 heures "
        "habituellement actives : une interruption de la supervision, constat en soi.",
    ),
    "blind.none": ("No blind spot found.", "Aucun angle mort constaté."),
    "blind.hours": ("hours without a line", "heures sans une ligne"),
    "timeline": ("Timeline", "Chronologie"),
    "timeline.missing": (
        "The timeline needs the optional extra ftp-sentinel[report] (matplotlib).",
        "La chronologie requiert l'extension optionnelle ftp-sentinel[report] (matplotlib).",
    ),
    "timeline.volume": ("logins and transfers", "connexions et transferts"),
    "timeline.logins": ("logins", "connexions"),
    "timeline.transfers": ("transfers", "transferts"),
    "timeline.blind": ("blind spot", "angle mort"),
    "incidents": ("Incidents, most severe first", "Incidents, du plus grave au moins grave"),
    "incidents.none": ("No incident.", "Aucun incident."),
    "who": ("who", "qui"),
    "where": ("from where", "d'où"),
    "when": ("when", "quand"),
    "duration": ("how long", "durée"),
    "events": ("events", "événements"),
    "transferred": ("transferred", "transféré"),
    "files_word": ("files", "fichiers"),
    "ongoing": ("still going on", "encore en cours"),
    "ongoing.yes": ("yes", "oui"),
    "ongoing.no": ("no", "non"),
    "ongoing.possibly": (
        "possibly (seen within its window of the end of the input)",
        "peut-être (vu dans sa fenêtre avant la fin des données)",
    ),
    "status": ("status", "état"),
    "unknown": ("not known", "inconnu"),
    "files.more": ("more not listed", "autres non listés"),
    "files.some": (
        "the record names one file; the incident's other files are not known",
        "l'alerte nomme un fichier ; les autres fichiers de l'incident ne sont pas connus",
    ),
    "exposed": ("What was exposed", "Ce qui a été exposé"),
    "exposed.intro": (
        "Each file an incident transferred, looked for under the supervised directories "
        "(served_as maps the path clients see to the directory): the kinds and counts of "
        "personal identifiers it holds now, never their values, and whether it is encrypted.",
        "Chaque fichier transféré lors d'un incident, recherché sous les répertoires "
        "supervisés (served_as relie le chemin vu des clients au répertoire) : les types et "
        "nombres d'identifiants personnels qu'il contient aujourd'hui, jamais leurs valeurs, "
        "et s'il est chiffré.",
    ),
    "exposed.method": (
        "Records concerned: per file, the count of its most frequent kind of identifier, "
        "summed over files. People: distinct identifiers of the most frequent kind "
        "(counted by a keyed hash under a random key of this run, never kept). Estimates.",
        "Enregistrements concernés : par fichier, le nombre du type d'identifiant le plus "
        "fréquent, additionné sur les fichiers. Personnes : identifiants distincts du type "
        "le plus fréquent (comptés par empreinte à clé aléatoire propre à ce rapport, jamais "
        "conservée). Estimations.",
    ),
    "file": ("file", "fichier"),
    "state": ("state", "état"),
    "state.present": ("on disk", "présent"),
    "state.missing": ("no longer on disk", "plus sur le disque"),
    "state.refused": (
        "not read (a link or not a regular file)",
        "non lu (lien ou fichier non ordinaire)",
    ),
    "state.unsupervised": (
        "outside the supervised directories",
        "hors des répertoires supervisés",
    ),
    "identifiers": ("personal identifiers", "identifiants personnels"),
    "encrypted": ("encrypted", "chiffré"),
    "records": ("records concerned", "enregistrements concernés"),
    "people": ("people (estimate)", "personnes (estimation)"),
    "at_least": ("at least", "au moins"),
    "nothing_found": ("none found", "aucun trouvé"),
    "not_read": ("not read", "non lu"),
    "reachable": (
        "Reachable without authentication",
        "Accessible sans authentification",
    ),
    "reachable.intro": (
        "An anonymous session could take any file of the anonymous zones; what they hold "
        "now, whether or not the logs show it was downloaded:",
        "Une session anonyme pouvait prendre tout fichier des zones anonymes ; ce qu'elles "
        "contiennent aujourd'hui, que les journaux montrent ou non un téléchargement :",
    ),
    "art33": (
        "Notification of a personal data breach (GDPR art. 33(3))",
        "Notification d'une violation de données personnelles (RGPD art. 33(3))",
    ),
    "art33.intro": (
        "Facts filled in by sentinel; the fields in italics are for people to write.",
        "Faits établis par sentinel ; les champs en italique sont à rédiger.",
    ),
    "art33.a": (
        "(a) Nature of the breach, categories and approximate number of data subjects and "
        "of personal data records concerned",
        "(a) Nature de la violation, catégories et nombre approximatif de personnes "
        "concernées et d'enregistrements de données personnelles concernés",
    ),
    "art33.nature": ("Nature", "Nature"),
    "art33.categories": ("Categories of data", "Catégories de données"),
    "art33.subject_kinds": ("Categories of data subjects", "Catégories de personnes concernées"),
    "art33.subjects": ("Approximate number of data subjects", "Nombre approximatif de personnes"),
    "art33.records": (
        "Approximate number of records",
        "Nombre approximatif d'enregistrements",
    ),
    "art33.transferred": ("in files transferred", "dans les fichiers transférés"),
    "art33.up_to": (
        "up to, in what anonymous sessions could reach",
        "jusqu'à, dans ce que des sessions anonymes pouvaient atteindre",
    ),
    "art33.period": ("Period of the breach", "Période de la violation"),
    "art33.b": (
        "(b) Name and contact details of the data protection officer",
        "(b) Nom et coordonnées du délégué à la protection des données",
    ),
    "art33.c": (
        "(c) Likely consequences of the breach",
        "(c) Conséquences probables de la violation",
    ),
    "art33.d": (
        "(d) Measures taken or proposed, including to mitigate its possible adverse effects",
        "(d) Mesures prises ou proposées, y compris pour en atténuer les éventuelles "
        "conséquences négatives",
    ),
    "art33.to_write": ("To be written.", "À rédiger."),
    "art33.no_data": (
        "No personal identifier found in the files concerned.",
        "Aucun identifiant personnel trouvé dans les fichiers concernés.",
    ),
    "kind.nir": ("French social security numbers (NIR)", "numéros de sécurité sociale (NIR)"),
    "kind.iban": ("bank account numbers (IBAN)", "numéros de compte bancaire (IBAN)"),
    "kind.email": ("e-mail addresses", "adresses électroniques"),
    "kind.phone": ("phone numbers", "numéros de téléphone"),
    "rule.anonymous_access": ("anonymous access", "accès anonyme"),
    "rule.bulk_download": ("bulk download", "téléchargement massif"),
    "rule.brute_force": ("brute force on passwords", "attaque par force brute"),
    "rule.password_spray": ("password spraying", "pulvérisation de mots de passe"),
    "rule.shared_account": ("account shared between addresses", "compte partagé"),
    "rule.untrusted_network": (
        "login from an untrusted network",
        "connexion hors réseau de confiance",
    ),
    "rule.off_hours": ("login outside working hours", "connexion hors horaires"),
    "rule.brute_force_success": (
        "login after a brute force",
        "connexion après une force brute",
    ),
    "rule.source_silent": ("log gone silent", "journal devenu muet"),
    "rule.stale_file": ("file left on the server", "fichier laissé sur le serveur"),
    "rule.unencrypted_personal_data": (
        "personal data stored unencrypted",
        "données personnelles non chiffrées",
    ),
    "rule.exposed_file": ("file exposed", "fichier exposé"),
    "rule.insecure_server_config": ("insecure server setting", "configuration non sûre"),
    "severity.critical": ("critical", "critique"),
    "severity.warning": ("warning", "avertissement"),
    "severity.info": ("info", "info"),
}


def choose_language(flag: str | None, environ: Mapping[str, str]) -> str:
    """`--lang`, else the locale's language (LC_ALL, LC_MESSAGES, LANG, as gettext reads them)."""
    if flag:
        return flag
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


class Words:
    """The words of one language; a missing key is shown as itself (never an error)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._index = LANGUAGES.index(lang)

    def __call__(self, key: str) -> str:
        pair = WORDS.get(key)
        return pair[self._index] if pair is not None else key

    def rule(self, name: str) -> str:
        return self(f"rule.{name}") if f"rule.{name}" in WORDS else name

    def number(self, value: int) -> str:
        text = f"{value:,}"
        return text.replace(",", "\u202f") if self.lang == "fr" else text

    def duration(self, seconds: float) -> str:
        seconds = round(seconds)
        if seconds < 120:
            return f"{seconds} s"
        if seconds < 7200:
            return f"{seconds // 60} min"
        if seconds < 3 * 86400:
            hours = f"{seconds / 3600:.1f}"
            return f"{hours.replace('.', ',') if self.lang == 'fr' else hours} h"
        days = seconds // 86400
        return f"{days} {'j' if self.lang == 'fr' else 'd'}"
