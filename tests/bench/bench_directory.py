#!/usr/bin/env python3
"""bench_directory.py - finding people among a company's 77,000 employees
on a real ruched, next to the raw limits measured in the same run.

Usage: bench_directory.py RUCHED [--people N] [--requests R] [--clients C]
                          [--chunk E] [--seed S] [--quick]
                          [--ldap | --no-ldap] [--ldap-people L]
                          [--ldap-probe PATH/TO/ldap_probe]

One site is enough for the search figures: every site holds every
employee of the company (each imports its own and receives the others'
profiles), so a search at any site reads the same people index of N
profiles from its own store and asks no other site. Here the one node
imports all N itself, as if it were the home of everyone; at real scale
each of 30 sites imports its ~2,600 and replication brings the rest,
which leaves the people index of the same size and shape (only the
home keys at the front of the user keys differ). Replication of the
profiles is not measured here (bench_repl measures replication).

The employees (generated, the same for a given --seed): first and last
names with accents, drawn with a popularity skew (the most common first
names belong to a few hundred people in 77,000, a full name to a
handful), compound first names and particles; 40 departments, 300
titles (French, as the company writes them), 30 sites with their phone
prefixes, offices, e-mails, 0 to 6 skills from a vocabulary of about
500 (mostly from their department's fields), managers. The first
employees are fixed (Chloé Dupont first) so that every query below has
something to find at any N.

1. Import: POST /api/ruche/v1/admin/directory, --chunk entries a request
   (one client, one request at a time, as the directory sync does):
   entries/s, and the profiles signed (the reports' published), applied
   (the node's own head sequence number) and committed (durable commits,
   /metrics ruche_writer_commits_total), the bytes the node wrote
   (/proc/PID/io wchar), the entries/s of the first and last requests.
   Two raw limits beside it, the lower one being the bound: Ed25519
   signatures of 400 bytes (python3-nacl, the same libsodium), as the
   import signs one update per entry; and the durable LMDB commits of the
   import's own writes: the people index keys, profile records and signed
   updates the node wrote (read back from its store: the three largest
   databases, most of the bytes), put in the same order into a
   store of their own on the same file system, 256 employees a durable
   commit as ru_dirsync does, and nothing else (python3-lmdb, the same
   liblmdb). The index keys of a batch fall all over the people index,
   so each commit copies thousands of its pages: the commits, not the
   signatures, bound the import, and the bytes written show why. Then the
   node's memory, its data directory and its largest databases.

2. Searches: GET /api/ruche/v1/people (limit 40, as the directory page
   asks) for a full name, a common first name's prefix, a skill filter,
   a department and site filter, a title word, "who can help with
   kubernetes" (the administrator posts a few statuses tagged
   #kubernetes first, and is found for them) and a
   browse (no query), and Mastodon's GET /api/v1/accounts/search for a
   name. Each over one keep-alive connection, --requests times after a
   few to warm up: p50 and p99 of the time from sending the request to
   the last byte of the answer. The full name again with --clients
   clients at once (processes, one connection each): p50, p99 and the
   requests/s of all. Beside each: "found", every result (paged with
   limit 80 up to [http] max_search_offset, so at most 1,040 are seen)
   and "expected", what the generated data says the query must find
   (the node's folding and matching done again in Python).

3. The raw limit beside each search, in the same run: the node's LMDB
   environment opened read-only from this process while the node runs
   (LMDB allows readers in other processes; python3-lmdb, the same
   liblmdb), and in a fresh read transaction the very prefix scans that
   the query's candidate step reads (ru_directory.c s_candidates: the
   first word of q under no kind byte and under each of the five kinds,
   a filter's first word under its kind, the help subject under skill,
   title and department and its tag; the profiles for a browse), each
   entry's user key copied out, at most [directory] max_candidates
   entries: p50 and p99 over as many repetitions, and the ratio ruche /
   raw. The raw scan reads no profile and renders nothing; the node reads
   each candidate's profile, checks and ranks it, and renders the page of
   40 accounts: the ratio is what that costs. The raw scan runs in Python,
   slower than the same scan in C: the ratios understate what the node
   adds to its scans. A first row gives the
   floor of the HTTP round trip from this client: GET /healthz on the
   same kind of connection.

4. The directory sync from LDAP (ru_dirldap), on its own nodes: a real
   slapd (tests/ldap/slapd.py) loaded with --ldap-people generated people
   (77,000 by default, each with the fixture's 16 x 16 JPEG in jpegPhoto),
   and a ruched syncing from it as a site would: StartTLS, sync_filter
   (objectClass=inetOrgPerson) (everyone), pages of 500, no schedule
   ([directory] sync_interval_s = 0). The bench asks for a run (POST
   /api/ruche/v1/admin/directory/sync) and polls GET every 0.1 s until it
   ends; wall time by the node's own clock (started_at to ended_at).
   - the first run: every person published and, as [directory] owned
     names avatar by default, every photo made an avatar through the
     image pipeline on the sync's thread (ru_mediaq_image);
   - the same first run on a second node with [directory] owned =
     display_name, which makes no avatars: the difference of the two
     walls divided by the photos is the cost of one photo;
   - a second run of the first node with nothing changed (every entry
     read, compared and left unchanged, no photo made again).
   Beside each: the CPU seconds of ruched in all and of its busiest
   thread, slapd's, the bytes ruched wrote and its durable commits; the
   entries/s of the first and the last fifth of the run (from the
   progress GET reports, the last fifth with the end of the run: the
   departures' scan and the last commit); then the node's memory after.
   The raw limit beside them, in the same run over the same entries: the
   walk alone, twice. ldapsearch (OpenLDAP's client) paging 500 at a time
   over StartTLS as the service account, the node's attributes, its LDIF
   read by this process; and ru_ldap's own walk as the node does it
   (tests/ldap/ldap_probe each, when --ldap-probe names it: ru_ldap_each
   with its own timing, each person printed to a pipe). --ldap runs this
   section alone, --no-ldap leaves it out.

--quick (the CTest smoke pass): 2,000 employees and 20 requests a query,
and 1,000 people in slapd for the sync; fails only when something does
not work: a request that errs, a search that finds nothing, or other
than what the data says it must find, a sync that does not end ok or
publishes, makes photos or leaves unchanged other than every person, a
walk that does not see every person. It asserts nothing about speed.
"""

import argparse
import calendar
import http.client
import itertools
import multiprocessing
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "ldap"))
import ruchetest as rt  # noqa: E402
import slapd  # noqa: E402

PEOPLE = "/api/ruche/v1/people"
ACCOUNTS = "/api/v1/accounts/search"
MAX_CANDIDATES = 50000  # [directory] max_candidates, the default
MAX_OFFSET = 1000  # [http] max_search_offset, the default
HELP_POSTS = 12  # statuses tagged #kubernetes posted before the searches
STORE_H = os.path.join(HERE, "..", "..", "node", "store", "ru_store.h")
KIND = {"title": 1, "department": 2, "site": 3, "office": 4, "skill": 5}
FILTER_ORDER = ("skill", "department", "site", "office", "title")  # ru_directory.c s_kinds

# ---------------------------------------------------------------------
# The employees

# First names, most common first.
FIRST = """Marie Thomas Nicolas Julien Camille Sophie Pierre Laura Antoine Léa
Maxime Sarah Alexandre Julie Mathieu Émilie Guillaume Manon Romain Pauline
Hugo Clément Céline Lucas Anaïs Sébastien Inès Jérôme Chloé Élodie
Benoît Aurélie Raphaël Mélanie François Hélène Frédéric Cécile Stéphane Noémie
Jean-Pierre Marie-Hélène Jean-François Anne-Sophie Loïc Gaëlle Joël Maëlle Noël Zoé
Michael Jennifer David Jessica James Emily John Ashley Robert Amanda
William Megan Daniel Rachel Matthew Lauren Christopher Hannah Andrew Olivia
Thomas Katharina Lukas Anna Jonas Lena Maximilian Jürgen Sören Jörg
Björn Günther Müge Bärbel Uwe Dörte Wolfgang Sabine Matthias Ute
Piotr Agnieszka Krzysztof Małgorzata Paweł Katarzyna Łukasz Zofia Michał Joanna
Mikko Päivi Jukka Sanna Antti Tuuli Ville Riikka Juha Sirpa
Ákos Zsófia Gábor Réka László Ildikó Bence Eszter Ștefan Ioana
Andrei Mihai Elena Radu Cristina Jiří Tereza Tomáš Zuzana Lucie
Javier Lucía Alejandro María José Carmen Íñigo Núria Sergio Paula
Giulia Matteo Francesca Lorenzo Chiara Niccolò Sara Luca Martina Tommaso
João Inês Gonçalo Beatriz Tiago Mariana André Rita Conceição Vitória
Aarav Priya Rohan Ananya Vikram Deepa Arjun Kavya Rahul Sneha
Srinivasan Lakshmi Karthik Meena Venkatesh Divya Suresh Anjali Rajesh Pooja
Wei Fang Jun Li Xiaoming Yan Hao Jing Lei Ming
Haruto Yui Sota Hina Ren Aoi Takumi Sakura Kenji Yuki
Mohamed Fatima Youssef Aïcha Karim Leïla Mehdi Salomé Rachid Nadia
Olúwaseun Chiamaka Kwame Ama Tendai Thandiwe Amani Zawadi Kofi Esi
Ingrid Sigrid Øystein Åsa Ragnhild Kjell Solveig Torbjørn Ebba Axel
Chloë Zoë Anaëlle Clémence Hervé Gérard Thérèse Amélie Héloïse Jérémie
Siobhán Seán Aoife Niamh Ciarán Róisín Pádraig Éabha Oisín Caoimhe"""
FIRST = list(dict.fromkeys(FIRST.split()))

# Last names, most common first ('_' joins the words of one).
LAST = """Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Dupont
Moreau Simon Laurent Lefebvre Michel Garcia David Bertrand Roux Vincent
Fournier Morel Girard André Lefèvre Mercier Blanc Guérin Boyer Garnier
Chevalier François Legrand Gauthier Perrin Robin Clément Morin Nicolas Henry
Roussel Mathieu Gautier Masson Marchand Duval Denis Dumont Marie Lemaire
Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas
Brunet Gaillard Barbier Arnaud Martinez Gérard Roche Renard Schmitt Roy
Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud
Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet
Rolland Leclercq Guillaume Lecomte López Jean Dupuis Guillot Hubert Berger
Carpentier Sanchez Dupuy Moulin Louis Deschamps Huet Vasseur Perez Boucher
Fleury Royer Klein Jacquet Adam Paris Poirier Marty Aubry Guyot
Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly Hervé
Le_Goff Le_Gall Le_Roux Le_Bihan Kerdraon Le_Floch Tanguy Quéré Le_Meur Cariou
Da_Silva Dos_Santos Ferreira Pereira Oliveira Rodrigues Gonçalves Fernandes Lopes Sousa
García López Martínez Sánchez Pérez Gómez Fernández Jiménez Muñoz Álvarez
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco
Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann
Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann
Krüger Böhm Jäger Günther Köhler Möller Groß Weiß Lehmann Hartmann
Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak
Korhonen Virtanen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen
Nagy Kovács Tóth Szabó Horváth Varga Kiss Molnár Németh Farkas
Popescu Ionescu Popa Stoica Dumitrescu Constantin Ștefănescu Marinescu Georgescu Lungu
Novák Svoboda Dvořák Černý Procházka Kučera Veselý Horák Němec Pokorný
Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor
Moore Jackson White Harris Thompson Clark Lewis Walker Hall Allen
Young King Wright Scott Green Baker Adams Nelson Hill Campbell
O'Brien O'Connor Murphy Kelly Byrne Ryan Walsh McCarthy Ó_Súilleabháin Mac_Giolla
Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsen Hansen Sørensen Jørgensen
Van_den_Berg De_Vries Van_Dijk Bakker Janssen Visser Smit Peeters Maes Jacobs
Kumar Sharma Singh Patel Reddy Iyer Nair Rao Gupta Krishnan
Subramanian Venkataraman Raghavan Natarajan Chandrasekaran Pillai Menon Das Bose Chatterjee
Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou
Xu Sun Ma Zhu Hu Guo He Lin Gao Luo
Satō Suzuki Takahashi Tanaka Watanabe Itō Yamamoto Nakamura Kobayashi Katō
Benali Haddad Mansouri Belkacem Bouzid Cherif Hamidi Saïdi Amrani Ziani
Okafor Mensah Adeyemi Boateng Nkosi Mwangi Diallo Traoré Koné N'Diaye
Yılmaz Kaya Demir Şahin Çelik Aydın Öztürk Arslan Doğan Kılıç
Papadopoulos Georgiou Nikolaou Ioannou Vlachos Øberg Åberg Ångström Lindqvist Söderberg
Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do"""
LAST = list(dict.fromkeys(w.replace("_", " ") for w in LAST.split()))

# The 40 departments, with the fields of skills their people mostly have
# and the words their titles end with. Four begin with "Recherche" and
# three with "Ventes", as such names do.
DEPARTMENTS = [
    ("Réseaux IP et optiques", "net telecom", "réseaux IP"),
    ("Radio mobile 5G", "telecom net", "radio 5G"),
    ("Cœur de réseau", "net cloud", "cœur de réseau"),
    ("Logiciel embarqué", "embedded prog", "logiciel embarqué"),
    ("Plateformes cloud", "cloud prog", "cloud"),
    ("Sécurité des systèmes d'information", "security cloud", "cybersécurité"),
    ("Recherche optique", "telecom hw", "photonique"),
    ("Recherche en algorithmique", "data prog", "algorithmique"),
    ("Recherche réseaux autonomes", "net data", "réseaux autonomes"),
    ("Recherche matériaux", "hw quality", "matériaux"),
    ("Direction financière", "finance", "finance"),
    ("Contrôle de gestion", "finance", "contrôle de gestion"),
    ("Trésorerie", "finance", "trésorerie"),
    ("Achats", "finance logistics", "achats"),
    ("Juridique", "hrlegal", "droit des affaires"),
    ("Propriété intellectuelle", "hrlegal", "brevets"),
    ("Ressources humaines", "hrlegal", "ressources humaines"),
    ("Paie et avantages", "hrlegal finance", "paie"),
    ("Formation", "hrlegal soft", "formation"),
    ("Communication", "sales soft", "communication"),
    ("Marketing produits", "sales", "marketing"),
    ("Ventes Europe", "sales lang", "ventes Europe"),
    ("Ventes Amériques", "sales lang", "ventes Amériques"),
    ("Ventes Asie-Pacifique", "sales lang", "ventes Asie-Pacifique"),
    ("Support client", "sales net", "support"),
    ("Services professionnels", "net cloud", "intégration de solutions"),
    ("Gestion de programme", "project", "programmes"),
    ("Qualité", "quality project", "qualité"),
    ("Logistique", "logistics", "logistique"),
    ("Fabrication", "logistics hw", "production"),
    ("Informatique interne", "cloud security", "systèmes d'information"),
    ("Données et intelligence artificielle", "data cloud", "données"),
    ("Expérience utilisateur", "prog sales", "design"),
    ("Architecture système", "prog net", "architecture système"),
    ("Tests et intégration", "prog cloud", "validation"),
    ("Environnement et sécurité au travail", "quality hrlegal", "HSE"),
    ("Immobilier et services généraux", "logistics", "services généraux"),
    ("Relations investisseurs", "finance sales", "relations investisseurs"),
    ("Stratégie", "project finance", "stratégie"),
    ("Conformité et éthique", "hrlegal security", "conformité"),
]

# Roles that titles start with; a department has 7 or 8 of them, so 300
# titles in all. Weights: how many of a department hold the role.
ROLES = [("Ingénieur", 10), ("Ingénieure", 9), ("Architecte", 3), ("Chef de projet", 3),
         ("Cheffe de projet", 3), ("Technicien", 5), ("Technicienne", 4), ("Analyste", 5),
         ("Responsable", 3), ("Directeur", 1), ("Directrice", 1), ("Consultant", 4),
         ("Consultante", 4), ("Développeur", 8), ("Développeuse", 6), ("Chercheur", 4),
         ("Chercheuse", 4), ("Expert", 2), ("Experte", 2), ("Chargé de mission", 2),
         ("Chargée de mission", 2), ("Assistant", 2), ("Assistante", 2), ("Manager", 2),
         ("Coordinateur", 2), ("Coordinatrice", 2), ("Spécialiste", 3), ("Stagiaire", 2),
         ("Apprenti", 1), ("Apprentie", 1)]

# The 30 sites: name, share of the employees (per mille), phone prefix,
# buildings.
SITES = [
    ("Paris-Saclay", 130, "+33 1 60 40", "ABCDEFG"), ("Paris", 70, "+33 1 55 14", "AB"),
    ("Lannion", 45, "+33 2 96 05", "ABC"), ("Sophia Antipolis", 30, "+33 4 92 94", "AB"),
    ("Villarceaux", 25, "+33 1 69 29", "AB"), ("Murray Hill", 45, "+1 908 582", "ABCD"),
    ("Naperville", 40, "+1 630 979", "ABC"), ("Plano", 30, "+1 972 477", "AB"),
    ("Sunnyvale", 25, "+1 408 878", "AB"), ("Ottawa", 30, "+1 613 784", "ABC"),
    ("Stuttgart", 45, "+49 711 821", "ABCD"), ("Nürnberg", 20, "+49 911 526", "AB"),
    ("Ulm", 15, "+49 731 505", "A"), ("Antwerpen", 30, "+32 3 240", "ABC"),
    ("Espoo", 50, "+358 9 5118", "ABCDE"), ("Oulu", 35, "+358 8 5581", "ABC"),
    ("Tampere", 20, "+358 3 3153", "AB"), ("Kraków", 30, "+48 12 628", "ABC"),
    ("Wrocław", 35, "+48 71 777", "ABC"), ("Budapest", 25, "+36 1 382", "AB"),
    ("Timișoara", 20, "+40 256 306", "AB"), ("Madrid", 15, "+34 91 330", "A"),
    ("Vimercate", 20, "+39 039 686", "AB"), ("Dublin", 15, "+353 1 692", "A"),
    ("Bangalore", 60, "+91 80 4191", "ABCDE"), ("Chennai", 40, "+91 44 6650", "ABC"),
    ("Shanghai", 35, "+86 21 5054", "ABC"), ("Tokyo", 10, "+81 3 6441", "A"),
    ("Sydney", 5, "+61 2 9491", "A"), ("São Paulo", 10, "+55 11 5188", "A"),
]

# The skills, about 500, by field.
SKILLS = {
    "prog": """C|C++|Rust|Go|Python|Java|Kotlin|Scala|JavaScript|TypeScript|Erlang|Elixir|
Haskell|OCaml|Perl|Ruby|PHP|Swift|Objective-C|C#|F#|Lua|R|Julia|MATLAB|Fortran|Ada|Bash|
PowerShell|SQL|PL/SQL|Prolog|Common Lisp|Clojure|Dart|Zig|Assembleur|Architecture logicielle|
Microservices|API REST|gRPC|GraphQL|Conception orientée objet|Programmation fonctionnelle|
Tests unitaires|TDD|Refactoring|Performance|Profilage|Débogage|Concurrence|
Systèmes distribués|Bases de données|Compilateurs|Vérification formelle|Coq|TLA+|
Accessibilité|Front-end|React|Vue.js|Angular|HTML|CSS|Android|iOS|Qt|GTK|WebAssembly|
OpenAPI|UML|Git|Bazel|CMake|Revue de code""",
    "cloud": """Kubernetes|Docker|Podman|Helm|Terraform|Ansible|Puppet|SaltStack|OpenStack|
AWS|Azure|Google Cloud|OpenShift|Istio|Envoy|Prometheus|Grafana|Elasticsearch|Kibana|
Logstash|Kafka|RabbitMQ|ZeroMQ|NATS|Redis|PostgreSQL|MySQL|MariaDB|MongoDB|Cassandra|
LMDB|SQLite|Nginx|HAProxy|Jenkins|GitLab CI|GitHub Actions|systemd|Linux|FreeBSD|
Vagrant|Ceph|etcd|Argo CD|Observabilité|SRE|Astreinte""",
    "net": """BGP|OSPF|IS-IS|MPLS|Segment Routing|SRv6|IPv6|IPv4|VXLAN|EVPN|QoS|Multicast|
DNS|DHCP|NTP|PTP|SNMP|NETCONF|YANG|gNMI|OpenFlow|SDN|NFV|Wireshark|TCP/IP|Ethernet|
Wi-Fi|Wi-Fi 7|LoRaWAN|Zigbee|Bluetooth|VPN|IPsec|WireGuard|Pare-feu|Routage|
Commutation|Réseaux optiques|DWDM|OTN|GPON|XGS-PON|FTTH|Faisceaux hertziens|Cisco IOS|
Junos|SR Linux""",
    "telecom": """5G|4G LTE|5G NR|O-RAN|RAN|Cœur 5G|IMS|VoLTE|SIP|Diameter|SS7|GTP|3GPP|
ETSI|Beamforming|MIMO|Massive MIMO|Traitement du signal|Radiofréquences|Antennes|
Propagation radio|Planification radio|Small cells|Network slicing|Edge computing|MEC|
Synchronisation|Fronthaul|eCPRI|Spectre radio|Satellite|Câbles sous-marins|
Amplificateurs optiques|Lasers|Photonique|Photonique sur silicium|Fibre optique|
Modulation cohérente|Codes correcteurs|Théorie de l'information""",
    "data": """Machine learning|Deep learning|PyTorch|TensorFlow|JAX|scikit-learn|pandas|NumPy|
Spark|Hadoop|Airflow|dbt|Statistiques|Probabilités|Optimisation|Recherche opérationnelle|
Traitement du langage|Vision par ordinateur|LLM|Apprentissage par renforcement|
Séries temporelles|Détection d'anomalies|MLOps|Data engineering|Data visualisation|
Power BI|Tableau|Qlik|Jupyter|Théorie des graphes|Algorithmique|Calcul distribué|GPU|CUDA|
Quantification|Systèmes de recommandation|Inférence causale|Statistique bayésienne|
Économétrie|Enquêtes""",
    "security": """Cryptographie|PKI|TLS|Ed25519|HSM|SOC|SIEM|Tests d'intrusion|Forensique|
Analyse de malware|Gestion des vulnérabilités|ISO 27001|NIS2|IAM|OAuth|OpenID Connect|
Kerberos|LDAP|Active Directory|Zero trust|Sécurité cloud|Sécurité réseau|
Durcissement Linux|Fuzzing|Modélisation des menaces|Gestion de crise|
Continuité d'activité|EBIOS|Réponse à incident|Threat intelligence""",
    "embedded": """Systèmes embarqués|Temps réel|FreeRTOS|Zephyr|Yocto|U-Boot|Noyau Linux|
Pilotes|FPGA|ASIC|DSP|ARM|RISC-V|x86|Microcontrôleurs|VHDL|Verilog|SystemVerilog|
Bootloaders|Gestion d'énergie""",
    "hw": """Conception de cartes|CAO électronique|Altium|KiCad|Compatibilité électromagnétique|
Thermique|Alimentation électrique|Mesures RF|Oscilloscope|Analyse de spectre|Soudure|
Prototypage|Impression 3D|SolidWorks|CATIA|Mécanique|Matériaux|Semi-conducteurs|
Salle blanche|Microscopie électronique|Nanotechnologies|Couches minces""",
    "project": """Gestion de projet|Agile|Scrum|Kanban|SAFe|Prince2|PMP|Jira|Confluence|
Planification|Gestion des risques|Gestion budgétaire|Pilotage|Management d'équipe|
Leadership|Coaching|Mentorat|Conduite du changement|Facilitation|Animation d'ateliers|
Gestion des parties prenantes|Amélioration continue|Lean|Six Sigma|Kaizen|
Gestion des fournisseurs|Transformation numérique|Stratégie|Innovation|Design thinking|
OKR|Gestion de portefeuille""",
    "finance": """Comptabilité|Consolidation|IFRS|US GAAP|Fiscalité|TVA|Prix de transfert|
Gestion de trésorerie|Contrôle de gestion|Audit|Audit interne|SAP|SAP FI|SAP CO|
Oracle Financials|Excel|VBA|Modélisation financière|Business plan|Budget|Prévisions|
Clôture mensuelle|Reporting financier|Fusions et acquisitions|Évaluation d'entreprise|
Relations bancaires|Couverture de change|Crédit|Recouvrement|Facturation|Achats indirects|
Achats de composants|Sourcing|Appels d'offres|Contrats cadres""",
    "hrlegal": """Recrutement|Paie|Droit du travail|Relations sociales|Formation professionnelle|
Gestion des talents|Entretiens annuels|Rémunération|Avantages sociaux|
Mobilité internationale|Onboarding|SIRH|Workday|Diversité et inclusion|
Qualité de vie au travail|Ergonomie|Santé et sécurité|Droit des contrats|
Droit de la concurrence|Brevets|Licences open source|Droit des télécoms|Contentieux|
Conformité|Contrôle des exportations|Sanctions internationales|Éthique|RGPD|
Protection des données|Médiation|Gouvernance|Droit des sociétés|Marques|Veille juridique|
Arbitrage""",
    "sales": """Vente B2B|Vente complexe|Avant-vente|Gestion de comptes clés|CRM|Salesforce|
Marketing digital|SEO|Réseaux sociaux|Relations presse|Communication interne|Événementiel|
Rédaction technique|Traduction|Vidéo|Photographie|Graphisme|Figma|Illustrator|Photoshop|
InDesign|Études de marché|Veille concurrentielle|Pricing|Marketing produit|
Lancement produit|Gestion de la marque|Partenariats|Réponse aux appels d'offres|
Service client|Support technique|Formation client|ITIL|ServiceNow|Zendesk|Négociation|
Prise de parole""",
    "lang": """Anglais|Français|Allemand|Espagnol|Italien|Portugais|Néerlandais|Polonais|
Finnois|Suédois|Norvégien|Danois|Hongrois|Roumain|Tchèque|Grec|Turc|Russe|Ukrainien|
Arabe|Hébreu|Hindi|Tamoul|Mandarin|Cantonais|Japonais|Coréen|Vietnamien|Thaï|Indonésien""",
    "logistics": """Supply chain|Logistique internationale|Douane|Gestion des stocks|
Prévision de la demande|ERP|SAP MM|Lean manufacturing|Production|Maintenance industrielle|
Transport|Entrepôts|Incoterms|Gestion de flotte|Immobilier|Facility management|
Sécurité incendie|Énergie""",
    "quality": """Qualité fournisseurs|ISO 9001|TL 9000|Métrologie|Analyse de défaillance|AMDEC|
8D|Fiabilité|Essais environnementaux|Marquage CE|Réglementation|RoHS|REACH|Écoconception|
Bilan carbone|Analyse de cycle de vie|ISO 14001|Audit qualité""",
    "soft": """Pédagogie|Esprit d'équipe|Résolution de problèmes|Pensée critique|Organisation|
Écoute|Interculturel|Sauveteur secouriste du travail|Premiers secours|Logiciel libre|
Vulgarisation scientifique|Publication scientifique|Enseignement|Rédaction|
Animation de communauté|Intelligence émotionnelle""",
}


def skill_fields():
    """{field: [skill, ...]} and the whole vocabulary, each skill once."""
    seen, fields = set(), {}
    for field, text in SKILLS.items():
        fields[field] = []
        for s in text.replace("\n", "").split("|"):
            if s and s not in seen:
                seen.add(s)
                fields[field].append(s)
    return fields, [s for f in fields.values() for s in f]


def zipf_weights(n, shift):
    return [1.0 / (r + shift) for r in range(1, n + 1)]


def ascii_name(text):
    """A user name's part from a name: folded, letters and digits, words
    joined by '-'."""
    return "-".join(fold_words(text))


def titles_of(d):
    """Department d's titles and their weights: 7 or 8 roles (20
    departments have 8), each with the department's domain."""
    count = 8 if d % 2 == 0 else 7
    out = []
    for j in range(count):
        role, weight = ROLES[(d * 7 + j * 4) % len(ROLES)]
        out.append(("%s %s" % (role, DEPARTMENTS[d][2]), weight))
    return out


FIXED = [  # the first employees, whatever the seed: every query finds someone
    ("Chloé", "Dupont", 6, "Lannion", ["Lasers", "Photonique", "Kubernetes", "Python"]),
    ("Chloë", "Dupont", 4, "Paris-Saclay", ["Python", "Rust"]),
    ("Chloé", "Martin", 2, "Stuttgart", ["Kubernetes", "5G"]),
    ("Jean-Pierre", "Le Goff", 33, "Lannion", ["Architecture logicielle", "Kubernetes"]),
]


def employees(n, seed):
    """n employees as the import takes them, the same for a seed."""
    rnd = random.Random(seed)
    fields, vocab = skill_fields()
    first_w, last_w = zipf_weights(len(FIRST), 60), zipf_weights(len(LAST), 40)
    site_w = [s[1] for s in SITES]
    dept_sizes = [3 + (d * 37 % 11) for d in range(len(DEPARTMENTS))]  # 3 to 13
    dept_titles = [titles_of(d) for d in range(len(DEPARTMENTS))]
    dept_skills = [[s for f in DEPARTMENTS[d][1].split() for s in fields[f]]
                   for d in range(len(DEPARTMENTS))]
    dept_cum = [list(itertools.accumulate(zipf_weights(len(pool), 5))) for pool in dept_skills]
    n_skills_w = [15, 10, 15, 20, 17, 13, 10]  # 0 to 6 skills
    taken, out, managers = {}, [], [[] for _ in DEPARTMENTS]
    for i in range(n):
        if i < len(FIXED):
            first, last, d, site, skills = FIXED[i]
        else:
            first = rnd.choices(FIRST, first_w)[0]
            last = rnd.choices(LAST, last_w)[0]
            d = rnd.choices(range(len(DEPARTMENTS)), dept_sizes)[0]
            site = rnd.choices(SITES, site_w)[0][0]
            k = rnd.choices(range(7), n_skills_w)[0]
            skills = []
            while len(skills) < k:  # mostly their department's fields, the first ones most
                s = (rnd.choices(dept_skills[d], cum_weights=dept_cum[d])[0]
                     if rnd.random() < 0.8 else rnd.choice(vocab))
                if s not in skills:
                    skills.append(s)
        site_row = next(s for s in SITES if s[0] == site)
        base = "%s.%s" % (ascii_name(first), ascii_name(last))
        taken[base] = taken.get(base, 0) + 1
        name = base if taken[base] == 1 else "%s%d" % (base, taken[base])
        titles = dept_titles[d]
        title = rnd.choices([t[0] for t in titles], [t[1] for t in titles])[0]
        dir_id = "E%06d" % (i + 1)
        if i == 0:
            manager = ""
        elif not managers[d]:
            manager = "E000001"  # the first of a department reports to the first of all
        else:
            manager = rnd.choice(managers[d][:12])
        if len(managers[d]) < 12 and (not managers[d] or rnd.random() < 0.1):
            managers[d].append(dir_id)
        out.append({
            "username": name, "display_name": "%s %s" % (first, last), "dir_id": dir_id,
            "title": title, "department": DEPARTMENTS[d][0], "site": site,
            "office": "Bât. %s, %d.%02d" % (rnd.choice(site_row[3]), rnd.randint(0, 6),
                                            rnd.randint(1, 60)),
            "phone": "%s %04d" % (site_row[2], rnd.randint(0, 9999)),
            "email": "%s@ruche-corp.example" % name, "manager": manager, "skills": skills})
    return out


# ---------------------------------------------------------------------
# Folding and matching as the node does (ru_fold.c, ru_directory.c)

_LATIN1 = ("aaaaaa0ceeeeiiiidnooooo ouuuuy12aaaaaa0ceeeeiiiidnooooo ouuuuy1y")
_LATIN_A = ("aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii33jjkkklllllll"
            "lllnnnnnnnnnoooooo44rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs")
_PAIRS = ["ae", "th", "ss", "ij", "oe"]
_SPECIAL = {0x192: "f", 0x218: "s", 0x219: "s", 0x21a: "t", 0x21b: "t", 0x1e9e: "ss"}


def _fold_char(ch):
    """What one character becomes: a string, "" dropped, None a separator
    (the Latin part of ru_fold.c, all that the data and queries use)."""
    cp = ord(ch)
    if cp < 0x80:
        c = ch.lower()
        return c if c.isascii() and c.isalnum() else None
    if cp == 0xad or 0x300 <= cp <= 0x36f:
        return ""
    if cp <= 0xbf or cp in (0xd7, 0xf7):
        return None
    if cp <= 0x17f:
        c = _LATIN1[cp - 0xc0] if cp < 0x100 else _LATIN_A[cp - 0x100]
        return None if c == " " else _PAIRS[int(c)] if c.isdigit() else c
    return _SPECIAL.get(cp, ch.lower())


def fold_words(text):
    """The folded words of text, as ru_fold_word cuts them."""
    words, cur = [], ""
    for ch in text + " ":
        f = _fold_char(ch)
        if f is not None:
            cur += f
        elif cur:
            words.append(cur.encode()[:64].decode("utf-8", "ignore"))  # RU_FOLD_WORD_MAX
            cur = ""
    return words


def fold_terms(text):
    return fold_words(text or "")[:8]


def covered(terms, texts):
    """The bits of the terms that start a word of one of texts."""
    found = 0
    for t in texts:
        for w in fold_words(t):
            for i, term in enumerate(terms):
                if w.startswith(term):
                    found |= 1 << i
    return found


def expected_people(people, query, tagged_by_admin):
    """How many the node must find for query (GET /api/ruche/v1/people)."""
    if "help" in query:
        terms = fold_terms(query["help"])
        found = sum(1 for p in people
                    if covered(terms, p["skills"]) or covered(terms, [p["title"],
                                                                      p["department"]]))
        return found + (1 if tagged_by_admin else 0)
    n = 0
    for p in people:
        ok = all(covered(fold_terms(query[f]), p["skills"] if f == "skill" else [p[f]]) ==
                 (1 << len(fold_terms(query[f]))) - 1 for f in FILTER_ORDER if f in query)
        terms = fold_terms(query.get("q"))
        if ok and terms:
            ok = covered(terms, [p["username"], p["display_name"], p["title"], p["department"],
                                 p["site"], p["office"]] + p["skills"]) == (1 << len(terms)) - 1
        n += ok
    return n


def expected_accounts(people, q):
    """How many GET /api/v1/accounts/search?q= must find (names only)."""
    terms = fold_terms(q)
    return sum(1 for p in people
               if covered(terms, [p["username"], p["display_name"]]) == (1 << len(terms)) - 1)


def candidate_scans(query):
    """The (database, prefix) scans of ru_directory.c's candidate step."""
    if "help" in query:
        scans = []
        for w in fold_terms(query["help"]):
            scans += [("people", bytes([KIND[k]]) + w.encode())
                      for k in ("skill", "title", "department")]
        tags = [t.lower() for t in re.split(r"[ #,]+", query["help"]) if t]
        return scans + [("tags", t.encode() + b"\0") for t in tags]
    for f in FILTER_ORDER:
        if f in query and fold_terms(query[f]):
            return [("people", bytes([KIND[f]]) + fold_terms(query[f])[0].encode())]
    terms = fold_terms(query.get("q"))
    if terms:
        w = terms[0].encode()
        return [("people", w)] + [("people", bytes([k]) + w) for k in range(1, 6)]
    return [("profiles", b"")]


def account_scans(q):
    """The scans of ru_search_query.c's account search (s_people_scan)."""
    name = q.strip(" @").lower()
    scans = []
    if name and re.fullmatch(r"[a-z0-9_.-]+", name):
        scans += [("people", name.encode()), ("users", name.encode())]
    terms = fold_terms(q)
    return scans + ([("people", terms[0].encode())] if terms else [])


# ---------------------------------------------------------------------
# Measuring


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


class KeepAlive:
    """One keep-alive HTTP/1.1 connection to the node, as one user."""

    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=rt.REQUEST_TIMEOUT)
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = "Bearer " + token

    def get(self, path):
        self.conn.request("GET", path, headers=self.headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def timed(self, path, count, warm=3):
        """count latencies (s) of GET path; raises TestError on an error."""
        times = []
        for i in range(warm + count):
            t0 = time.perf_counter()
            status, body = self.get(path)
            dt = time.perf_counter() - t0
            if status != 200:
                raise rt.TestError("GET %s: %d %s" % (path, status, body[:200]))
            if i >= warm:
                times.append(dt)
        return times

    def close(self):
        self.conn.close()


def _client_proc(port, token, path, count, barrier, results):
    c = KeepAlive(port, token)
    try:
        c.timed(path, 0, warm=3)
        barrier.wait()
        results.put(c.timed(path, count, warm=0))
    except Exception as e:  # reported by the parent
        barrier.abort()
        results.put("%s" % e)
    finally:
        c.close()


def concurrent(port, token, path, count, clients):
    """(latencies, requests/s) of clients processes asking path count times
    each over their own keep-alive connection, all at once."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(clients + 1), ctx.Queue()
    procs = [ctx.Process(target=_client_proc, args=(port, token, path, count, barrier, results))
             for _ in range(clients)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    t0 = time.perf_counter()
    got = [results.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    errors = [g for g in got if isinstance(g, str)]
    if errors:
        raise rt.TestError("a client failed: %s" % errors[0])
    times = [t for g in got for t in g]
    return times, len(times) / wall


def max_dbs():
    """RU_DB_COUNT: the named databases of ru_store.h's list."""
    with open(STORE_H, encoding="utf-8") as f:
        return len(re.findall(r"^\s*X\((\w+), [01]\)", f.read(), re.M))


class RawStore:
    """The node's LMDB environment, read-only, beside the running node."""

    def __init__(self, data_dir):
        import lmdb
        self.lmdb = lmdb
        self.env = lmdb.open(data_dir, readonly=True, lock=True, max_dbs=max_dbs(),
                             max_readers=512, map_size=1 << 40, subdir=True)
        # opened before any transaction that uses them begins: a handle
        # opened later is not valid in a transaction begun before it
        with self.env.begin() as txn:
            names = [bytes(k) for k in txn.cursor().iternext(values=False)]
        self.dbs = {name.decode(): self.env.open_db(name, create=False) for name in names}

    def db(self, name):
        return self.dbs[name]

    def entries(self, name):
        with self.env.begin() as txn:
            return txn.stat(self.db(name))["entries"]

    def stat(self, name):
        with self.env.begin() as txn:
            s = txn.stat(self.db(name))
        return s["entries"], (s["branch_pages"] + s["leaf_pages"] + s["overflow_pages"]) * s["psize"]

    def largest(self, count):
        """[(name, entries, bytes)] of the count largest databases."""
        sizes = [(name,) + self.stat(name) for name in self.dbs]
        return sorted(sizes, key=lambda x: -x[2])[:count]

    def own_seq(self):
        """The node's own head sequence number (its only origin here)."""
        with self.env.begin(db=self.db("heads")) as txn:
            seqs = [int.from_bytes(v[:8], "big") for _, v in txn.cursor()]
        return max(seqs) if seqs else 0

    def scan(self, scans, cap=MAX_CANDIDATES):
        """Entries of the scans (at most cap in all), each user key copied
        out as the candidate step keeps it."""
        n, keys = 0, []
        with self.env.begin() as txn:
            for db, prefix in scans:
                cur = txn.cursor(self.db(db))
                if not cur.set_range(prefix):
                    continue
                plen = len(prefix)
                for key in cur.iternext(values=False):
                    if key[:plen] != prefix or n >= cap:
                        break
                    n += 1
                    keys.append(key[key.index(0, plen) + 1:] if db == "people" else key)
        return n

    def timed(self, scans, count, warm=3):
        times, n = [], 0
        for i in range(warm + count):
            t0 = time.perf_counter()
            n = self.scan(scans)
            dt = time.perf_counter() - t0
            if i >= warm:
                times.append(dt)
        return times, n

    def close(self):
        self.env.close()


def raw_sign_rate(seconds):
    """Ed25519 signatures/s of 400-byte messages (python3-nacl)."""
    import nacl.signing
    key = nacl.signing.SigningKey(bytes(range(32)))
    msg = b"ruche/update/v3\n" + bytes(384)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(200):
            key.sign(msg)
        n += 200
    return n / (time.perf_counter() - t0)


def import_writes(store, people, seq0):
    """What the import wrote to the three largest databases, per employee
    in the order of the import: ([people index keys], profile (key,
    value), log (key, value)). seq0: the node's own sequence number before
    the import (its updates follow it, one per employee)."""
    order = {p["username"]: i for i, p in enumerate(people)}
    keys, profiles, logs = [[] for _ in people], [None] * len(people), [None] * len(people)
    with store.env.begin() as txn:
        for key in txn.cursor(store.db("people")).iternext(values=False):
            user = key[key.index(0) + 1:]
            i = order.get(user[32:-1].decode())
            if i is not None:
                keys[i].append(key)
        for key, value in txn.cursor(store.db("profiles")):
            i = order.get(key[32:-1].decode())
            if i is not None:
                profiles[i] = (key, value)
        for key, value in txn.cursor(store.db("log")):
            i = int.from_bytes(key[32:40], "big") - seq0 - 1
            if 0 <= i < len(people):
                logs[i] = (key, value)
    if None in profiles or None in logs:
        raise rt.TestError("the store lacks a profile or a signed update of the import")
    return keys, profiles, logs


def raw_replay_rate(writes, near, batch=256):
    """(entries/s, MB written) of the import's own writes to its three
    largest databases replayed in a fresh store beside near: the same keys
    and values in the same order, batch employees per durable commit, and
    nothing else (no signing, no encoding, no reads)."""
    import lmdb
    keys, profiles, logs = writes
    with tempfile.TemporaryDirectory(dir=near) as d:
        env = lmdb.open(d, map_size=1 << 36, max_dbs=3, sync=True, metasync=True)
        dbs = [env.open_db(name) for name in (b"people", b"profiles", b"log")]
        w0 = proc_fields(os.getpid(), "io")["wchar"]
        t0 = time.perf_counter()
        for b in range(0, len(keys), batch):
            with env.begin(write=True) as txn:
                for i in range(b, min(b + batch, len(keys))):
                    for key in keys[i]:
                        txn.put(key, b"", db=dbs[0])
                    txn.put(*profiles[i], db=dbs[1])
                    txn.put(*logs[i], db=dbs[2])
        wall = time.perf_counter() - t0
        written = proc_fields(os.getpid(), "io")["wchar"] - w0
        env.close()
    return len(keys) / wall, written / 1e6


def metric(client, name):
    text = client.get("/metrics").raw.decode()
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else 0.0


def proc_fields(pid, name):
    """{field: number} of /proc/pid/name ("status": kB turned into bytes)."""
    out = {}
    with open("/proc/%d/%s" % (pid, name)) as f:
        for line in f:
            key, _, value = line.partition(":")
            parts = value.split()
            if parts and parts[0].isdigit():
                out[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return out


def memory(pid):
    """The node's VmRSS, with its anonymous memory and its file pages (the
    pages of the LMDB map that it touched, and of its libraries)."""
    st = proc_fields(pid, "status")
    return "VmRSS %.1f MB (anonymous %.1f MB, file pages %.1f MB: LMDB map and libraries)" % (
        st.get("VmRSS", 0) / 1e6, st.get("RssAnon", 0) / 1e6, st.get("RssFile", 0) / 1e6)


def dir_bytes(path):
    """(apparent size, blocks on disk) of the files under path."""
    size = disk = 0
    for root, _, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(root, f))
            size += st.st_size
            disk += st.st_blocks * 512
    return size, disk


# ---------------------------------------------------------------------
# The run


def do_import(admin, people, chunk):
    """Imports people chunk by chunk; (report totals, seconds, entries/s
    of each chunk)."""
    total = {"seen": 0, "published": 0, "unchanged": 0, "refused": 0, "reasons": []}
    rates = []
    t0 = time.perf_counter()
    for i in range(0, len(people), chunk):
        body = people[i:i + chunk]
        t1 = time.perf_counter()
        r = admin.post("/api/ruche/v1/admin/directory",
                       json_body={"entries": body, "complete": False})
        if r.status != 200 or not isinstance(r.json, dict):
            raise rt.TestError("import of entries %d..: %d %s" % (i, r.status, r.brief()))
        rates.append(len(body) / (time.perf_counter() - t1))
        for k in total:
            total[k] += r.json.get(k, [] if k == "reasons" else 0)
    return total, time.perf_counter() - t0, rates


def count_found(admin, path, query, limit):
    """Every result of query, paged (at most MAX_OFFSET + limit)."""
    n = 0
    for offset in range(0, MAX_OFFSET + 1, limit):
        q = dict(query, limit=limit, offset=offset)
        r = admin.get(path, query=q)
        if r.status != 200 or not isinstance(r.json, list):
            raise rt.TestError("GET %s %r: %d %s" % (path, q, r.status, r.brief()))
        n += len(r.json)
        if len(r.json) < limit:
            break
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ruched")
    ap.add_argument("--people", type=int, default=77000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--quick", action="store_true")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--ldap", action="store_true", help="the LDAP sync section alone")
    which.add_argument("--no-ldap", action="store_true", help="leave the LDAP sync out")
    ap.add_argument("--ldap-people", type=int, default=77000)
    ap.add_argument("--ldap-probe", help="tests/ldap's ldap_probe, for ru_ldap's own walk")
    a = ap.parse_args()
    if a.quick:
        a.people, a.requests, a.clients, a.chunk, a.ldap_people = 2000, 20, 2, 1000, 1000
    rt.stop_on_sigterm()
    checks = rt.Checks()
    try:
        run(a, checks)
    except rt.TestError as e:
        checks.check("the bench runs to its end", False, e)
    return 1 if checks.failed else 0


def run(a, checks):
    if not a.ldap:
        run_directory(a, checks)
    if not a.no_ldap:
        ldap_figures(a, checks)


def run_directory(a, checks):
    t0 = time.perf_counter()
    people = employees(a.people, a.seed)
    firsts = sum(1 for p in people if fold_words(p["display_name"])[0] == "chloe")
    print("%d employees generated in %.1f s (seed %d): %d first names, %d last names, "
          "%d departments, %d titles, %d sites, %d skills; %d Chloé or Chloë"
          % (len(people), time.perf_counter() - t0, a.seed, len(set(FIRST)), len(set(LAST)),
             len(DEPARTMENTS), len({p["title"] for p in people}), len(SITES),
             len(skill_fields()[1]), firsts), flush=True)
    seconds = 0.3 if a.quick else 2.0
    with rt.Node(a.ruched, site="benchdir", settings=("http.max_body=16777216",)) as node:
        node.start()
        raw_sign = raw_sign_rate(seconds)
        c = node.client()
        token = c.login("admin", node.admin_password())
        admin = c.as_user(token)
        store = RawStore(node.data_dir)
        try:
            import_figures(a, checks, node, admin, store, people, raw_sign)
            for i in range(HELP_POSTS):
                admin.post_status("Le cluster %d repasse en production. #kubernetes #bench" % i)
            search_figures(a, checks, node, admin, token, store, people)
        finally:
            store.close()
        status = node.stop()
        checks.check("ruched exits cleanly", status == 0, "status %s" % status)


def import_figures(a, checks, node, admin, store, people, raw_sign):
    c = node.client()
    commits0, seq0 = metric(c, "ruche_writer_commits_total"), store.own_seq()
    io0 = proc_fields(node.proc.pid, "io")
    report, wall, rates = do_import(admin, people, a.chunk)
    io1 = proc_fields(node.proc.pid, "io")
    commits, seq = metric(c, "ruche_writer_commits_total") - commits0, store.own_seq() - seq0
    checks.check("the import publishes every employee",
                 report["published"] == len(people) and report["refused"] == 0,
                 "%r" % {k: v for k, v in report.items()})
    replay, replay_mb = raw_replay_rate(import_writes(store, people, seq0), node.tmp)
    rate, bound = len(people) / wall, min(raw_sign, replay)
    print("\n== import: %d employees, %d a request, one client" % (len(people), a.chunk))
    row = "%-58s %10s %10s %9s"
    print(row % ("", "entries/s", "MB written", "x bound"))
    print(row % ("raw: Ed25519 sign, 400 B (one per entry)", "%.0f" % raw_sign, "",
                 "%.2f x" % (raw_sign / bound)))
    print(row % ("raw: its LMDB writes replayed, 256 a durable commit", "%.0f" % replay,
                 "%.0f" % replay_mb, "%.2f x" % (replay / bound)))
    print(row % ("POST /api/ruche/v1/admin/directory", "%.0f" % rate,
                 "%.0f" % ((io1["wchar"] - io0["wchar"]) / 1e6), "%.3f x" % (rate / bound)))
    print("  in %.1f s: %d signed (published), %d applied (own seq), %d durable commits "
          "(%.0f entries each), %d refused; the node read %.0f MB"
          % (wall, report["published"], seq, commits, len(people) / max(commits, 1),
             report["refused"], (io1["rchar"] - io0["rchar"]) / 1e6))
    print("  entries/s of each request: first %.0f, last %.0f, slowest %.0f"
          % (rates[0], rates[-1], min(rates)))
    size, disk = dir_bytes(node.data_dir)
    pe, pb = store.stat("people")
    print("  ruched %s" % memory(node.proc.pid))
    print("  data directory %.1f MB (%.1f MB on disk), LMDB in use %.1f MB; people index %d "
          "entries (%.1f per employee)"
          % (size / 1e6, disk / 1e6, metric(c, "ruche_store_used_bytes") / 1e6, pe,
             pe / len(people)))
    print("  largest databases: %s" % ", ".join(
        "%s %.1f MB (%d)" % (name, size / 1e6, n) for name, n, size in store.largest(6)),
        flush=True)


ROWS = [  # (label, path, query)
    ("full name: q=chloe dupont", PEOPLE, {"q": "chloe dupont"}),
    ("first name prefix: q=chlo", PEOPLE, {"q": "chlo"}),
    ("skill filter: skill=python", PEOPLE, {"skill": "python"}),
    ("department + site filters", PEOPLE, {"department": "Recherche optique", "site": "Lannion"}),
    ("title word: q=architecte", PEOPLE, {"q": "architecte"}),
    ("help=kubernetes", PEOPLE, {"help": "kubernetes"}),
    ("browse: no query, offset 0", PEOPLE, {}),
    ("Mastodon accounts/search q=chloe dupont", ACCOUNTS, {"q": "chloe dupont"}),
]


def page_cap(limit):
    """The most results count_found can see with pages of limit."""
    return len(range(0, MAX_OFFSET + 1, limit)) * limit


def found_and_expected(checks, admin, store, people):
    """[(found, expected)] of each row, checked."""
    out = []
    for label, path, query in ROWS:
        accounts = path == ACCOUNTS
        limit = 40 if accounts else 80
        found = count_found(admin, path, query, limit)
        if accounts:
            expect = expected_accounts(people, query["q"])
        elif not query:
            expect = store.entries("profiles")  # everyone with a profile
        else:
            expect = expected_people(people, query, HELP_POSTS > 0)
        cap = page_cap(limit)
        checks.check("%s: finds what the data says (%d)" % (label, expect),
                     found > 0 and found == min(expect, cap),
                     "found %d, expected %d (at most %d seen)" % (found, expect, cap))
        out.append((found if found < cap else "%d+" % found, expect))
    return out


def search_figures(a, checks, node, admin, token, store, people):
    print("\n-- what each query finds (paged, at most %d seen), against the data" % page_cap(80))
    counts = found_and_expected(checks, admin, store, people)
    conn = KeepAlive(node.port, token)
    print("\n== searches among %d employees: %d requests each over one keep-alive "
          "connection (limit 40), raw scans over as many read transactions"
          % (len(people), a.requests))
    row = "%-40s %6s %6s %8s %8s %8s %8s %8s %7s"
    print(row % ("", "found", "expect", "ruche", "ruche", "raw", "raw", "read", "ruche/"))
    print(row % ("", "", "", "p50 ms", "p99 ms", "p50 ms", "p99 ms", "entries", "raw p50"))
    floor = conn.timed("/healthz", a.requests)
    print("%-40s %6s %6s %8.3f %8.3f" % ("floor: GET /healthz", "", "",
                                         1000 * percentile(floor, 50),
                                         1000 * percentile(floor, 99)), flush=True)
    figures = "%-40s %6s %6s %8.2f %8.2f %8.3f %8.3f %8d %6.0f x"
    full = None
    for (label, path, query), (found, expect) in zip(ROWS, counts):
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        times = conn.timed(url, a.requests)
        scans = account_scans(query["q"]) if path == ACCOUNTS else candidate_scans(query)
        raw, read = store.timed(scans, a.requests)
        full = full or (raw, read, url)
        p50, rp50 = percentile(times, 50), percentile(raw, 50)
        print(figures % (label, found, expect, 1000 * p50, 1000 * percentile(times, 99),
                         1000 * rp50, 1000 * percentile(raw, 99), read, p50 / rp50), flush=True)
    conn.close()
    raw, read, url = full
    times, rate = concurrent(node.port, token, url, a.requests, a.clients)
    p50, rp50 = percentile(times, 50), percentile(raw, 50)
    print(figures % ("full name, %d clients at once" % a.clients, "", "", 1000 * p50,
                     1000 * percentile(times, 99), 1000 * rp50, 1000 * percentile(raw, 99),
                     read, p50 / rp50))
    print("  %d clients: %.0f requests/s in all (the raw scan beside it: one reader)"
          % (a.clients, rate))
    print("  ruched after the searches: %s" % memory(node.proc.pid))


# ---------------------------------------------------------------------
# 4. The directory sync from LDAP

SYNC = "/api/ruche/v1/admin/directory/sync"
SYNC_WAIT = 7200.0  # seconds a run or a walk may take before the bench gives up
SYNC_FILTER = "(objectClass=inetOrgPerson)"  # everyone
PAGE = 500
# What ru_ldap asks for (ru_ldap.c s_attrs: the [ldap] defaults, with
# skills_attribute as slapd.py's settings name it).
LDAP_ATTRS = ["uid", "cn", "mail", "title", "departmentNumber", "l", "physicalDeliveryOfficeName",
              "telephoneNumber", "manager", "jpegPhoto", "entryUUID", "businessCategory",
              "memberOf", "userAccountControl"]


def cpu_times(pid):
    """(CPU seconds of process pid, {thread id: its CPU seconds})."""
    tick = os.sysconf("SC_CLK_TCK")

    def one(path):
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

    threads = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            threads[tid] = one("/proc/%d/task/%s/stat" % (pid, tid))
        except OSError:  # the thread ended meanwhile
            pass
    return one("/proc/%d/stat" % pid), threads


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def node_ms(text):
    """Milliseconds since the epoch of a time the node wrote (ru_view_time)."""
    return (calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) * 1000
            + int(text[20:23]))


def sync_settings(ldap):
    """The [ldap] and [directory] settings of a node syncing everyone."""
    return ldap.settings(starttls="yes", sync_filter=SYNC_FILTER, page_size=str(PAGE)) + [
        "directory.sync_interval_s=0"]


def sync_status(admin):
    r = admin.get(SYNC)
    if r.status != 200 or not isinstance(r.json, dict):
        raise rt.TestError("GET %s: %d %s" % (SYNC, r.status, r.brief()))
    return r.json


class Walk:
    """A timed walk over the directory by another program: persons seen,
    wall and CPU seconds of the program (cpu) and of slapd (slapd_cpu)."""

    def __init__(self, ldap, args, env=None):
        c0, s0 = children_cpu(), cpu_times(ldap.proc.pid)[0]
        t0 = time.perf_counter()
        r = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=SYNC_WAIT)
        self.wall = time.perf_counter() - t0
        self.cpu, self.slapd_cpu = children_cpu() - c0, cpu_times(ldap.proc.pid)[0] - s0
        self.out = r.stdout
        if r.returncode != 0:
            raise rt.TestError("%s exited with %d: %s" % (os.path.basename(args[0]), r.returncode,
                                                          r.stderr.decode()[-500:]))


def ldapsearch_walk(ldap):
    """ldapsearch paging PAGE at a time over StartTLS as the service account;
    persons: the entries of its LDIF."""
    env = dict(os.environ, LDAPTLS_CACERT=ldap.ca_file, LDAPTLS_REQCERT="demand")
    w = Walk(ldap, [slapd.LDAPSEARCH, "-x", "-ZZ", "-H", ldap.uri, "-D", slapd.SERVICE_DN,
                    "-w", slapd.SERVICE_PASSWORD, "-b", "ou=people," + slapd.SUFFIX,
                    "-E", "pr=%d/noprompt" % PAGE, "-LLL", "-o", "ldif-wrap=no",
                    SYNC_FILTER] + LDAP_ATTRS, env)
    w.persons = sum(1 for line in w.out.split(b"\n") if line.startswith(b"dn:"))
    return w


def probe_walk(probe, ldap):
    """ru_ldap's walk (ldap_probe each) with the node's [ldap] settings;
    persons as it counts them, seconds: its own timing of ru_ldap_each."""
    config = os.path.join(ldap.tmp, "probe.conf")
    with open(config, "w") as f:
        f.write("[ldap]\n")
        for setting in sync_settings(ldap):
            key, value = setting.split("=", 1)
            if key.startswith("ldap."):
                f.write("%s = %s\n" % (key[5:], value))
    w = Walk(ldap, [probe, config, "each"])
    last = w.out.decode().rstrip("\n").rsplit("\n", 1)[-1].split()
    stats = dict(zip(last[1::2], last[2::2]))
    if last[:1] != ["ok"]:
        raise rt.TestError("ldap_probe: %s" % " ".join(last))
    w.persons, w.seconds = int(stats["persons"]), float(stats["seconds"])
    return w


class Sync:
    """One sync run of node asked for and timed: status (the GET once it
    ended), wall (s, started_at to ended_at), cpu and busiest (CPU s of
    ruched and of its busiest thread), slapd_cpu, written (bytes ruched
    wrote), commits (durable), fifths (entries/s of the first and last
    fifth of the persons, None when too few GETs saw the run)."""

    def __init__(self, node, admin, ldap, runs, people):
        pid, c = node.proc.pid, node.client()
        cpu0, threads0 = cpu_times(pid)
        s0, w0 = cpu_times(ldap.proc.pid)[0], proc_fields(pid, "io")["wchar"]
        commits0 = metric(c, "ruche_writer_commits_total")
        t0 = time.perf_counter()
        r = admin.post(SYNC)
        if r.status != 202:
            raise rt.TestError("POST %s: %d %s" % (SYNC, r.status, r.brief()))
        samples = []

        def ended():
            st = sync_status(admin)
            if st["running"]:
                samples.append((time.perf_counter() - t0, st["report"]["seen"]))
            return st if st["runs"] >= runs and not st["running"] else None

        self.status = rt.wait_until(ended, SYNC_WAIT, "the sync number %d" % runs, interval=0.1)
        end = time.perf_counter() - t0
        cpu1, threads1 = cpu_times(pid)
        self.cpu, self.slapd_cpu = cpu1 - cpu0, cpu_times(ldap.proc.pid)[0] - s0
        self.busiest = max(t - threads0.get(tid, 0.0) for tid, t in threads1.items())
        self.written = proc_fields(pid, "io")["wchar"] - w0
        self.commits = metric(c, "ruche_writer_commits_total") - commits0
        st = self.status
        self.wall = (node_ms(st["ended_at"]) - node_ms(st["started_at"])) / 1000.0
        self.report = st["report"]
        first = [(t, n) for t, n in samples if n >= people / 5]
        last = [(t, n) for t, n in samples if n <= people * 4 / 5]
        self.fifths = None
        if first and last and first[0][1] < people and last[-1][1] > 0:
            self.fifths = (first[0][1] / first[0][0], (people - last[-1][1]) / (end - last[-1][0]))


def sync_node(a, ldap, site, more=()):
    return rt.Node(a.ruched, site=site, settings=sync_settings(ldap) + list(more))


def started_admin(node):
    """Starts node; a client signed in as its administrator."""
    node.start()
    c = node.client()
    return c.as_user(c.login("admin", node.admin_password()))


def ldap_figures(a, checks):
    n = a.ldap_people
    with slapd.Slapd(generated=n) as ldap:
        print("\n== directory sync from LDAP: %d people in slapd, each with a %d-byte JPEG "
              "(loaded with slapadd in %.1f s); StartTLS, pages of %d, sync_filter %s, "
              "one node a run" % (n, len(slapd.PHOTO), ldap.load_seconds, PAGE, SYNC_FILTER),
              flush=True)
        search = ldapsearch_walk(ldap)
        checks.check("ldapsearch's paged walk sees every person", search.persons == n,
                     "%d of %d" % (search.persons, n))
        probe = probe_walk(a.ldap_probe, ldap) if a.ldap_probe else None
        if probe:
            checks.check("ru_ldap's walk sees every person", probe.persons == n,
                         "%d of %d" % (probe.persons, n))
        with sync_node(a, ldap, "benchsync") as node:
            admin = started_admin(node)
            first = Sync(node, admin, ldap, 1, n)
            again = Sync(node, admin, ldap, 2, n)
            rss = memory(node.proc.pid)
            status = node.stop()
        checks.check("ruched (avatars) exits cleanly", status == 0, "status %s" % status)
        with sync_node(a, ldap, "benchbare", ["directory.owned=display_name"]) as bare:
            admin = started_admin(bare)
            plain = Sync(bare, admin, ldap, 1, n)
            bare_rss = memory(bare.proc.pid)
            status = bare.stop()
        checks.check("ruched (no avatars) exits cleanly", status == 0, "status %s" % status)
    sync_checks(checks, n, first, again, plain)
    sync_table(n, search, probe, first, plain, again)
    print("  first run: %d published, %d refused; %d photos made avatars, %d refused"
          % (first.report["published"], first.report["refused"], first.report["photos"],
             first.report["bad_photos"]))
    photos = first.report["photos"]
    if photos:
        print("  one photo through the image pipeline: %.2f ms (%.1f s with avatars - %.1f s "
              "without, over %d photos; %.2f ms of ruched CPU)"
              % (1000 * (first.wall - plain.wall) / photos, first.wall, plain.wall, photos,
                 1000 * (first.cpu - plain.cpu) / photos))
    for label, run in (("first run", first), ("without avatars", plain), ("unchanged", again)):
        if run.fifths:
            print("  %s: entries/s of the first fifth %.0f, of the last fifth (with the end of "
                  "the run) %.0f" % (label, run.fifths[0], run.fifths[1]))
    print("  ruched after its two runs: %s" % rss)
    print("  ruched without avatars after its run: %s" % bare_rss, flush=True)


def sync_checks(checks, n, first, again, plain):
    def got(run, *keys):
        return (run.status["result"],) + tuple(run.report[k] for k in keys)

    keys = ("published", "unchanged", "refused", "photos", "bad_photos")
    checks.equal("the first sync publishes every person and makes every photo an avatar",
                 got(first, *keys), ("ok", n, 0, 0, n, 0))
    checks.equal("the second, with nothing changed, publishes nothing and makes no photo",
                 got(again, *keys), ("ok", 0, n, 0, 0, 0))
    checks.equal("the node without avatars publishes every person and makes no photo",
                 got(plain, *keys), ("ok", n, 0, 0, 0, 0))


def sync_table(n, search, probe, first, plain, again):
    raw = probe.persons / probe.seconds if probe else search.persons / search.wall
    row = "%-58s %9s %8s %8s %8s %8s %8s %8s %7s"
    print(row % ("", "entries/s", "wall s", "CPU s", "busiest", "slapd", "MB", "durable",
                 "x walk"))
    print((row % ("", "", "", "", "thread s", "CPU s", "written", "commits", "")).rstrip())
    fig = "%-58s %9.0f %8.2f %8.2f %8s %8.2f %8s %8s %6.2f x"
    print(fig % ("raw: ldapsearch, paged, its LDIF read here", search.persons / search.wall,
                 search.wall, search.cpu, "", search.slapd_cpu, "", "",
                 search.persons / search.wall / raw))
    if probe:
        print(fig % ("raw: ru_ldap's walk (ldap_probe each)", probe.persons / probe.seconds,
                     probe.seconds, probe.cpu, "", probe.slapd_cpu, "", "", 1.0))
    for label, run in (("sync 1: every person published, photos made avatars", first),
                       ("sync 1 without avatars ([directory] owned = display_name)", plain),
                       ("sync 2: nothing changed", again)):
        print(fig % (label, n / run.wall, run.wall, run.cpu, "%.2f" % run.busiest,
                     run.slapd_cpu, "%.0f" % (run.written / 1e6), "%d" % run.commits,
                     n / run.wall / raw))


if __name__ == "__main__":
    sys.exit(main())
