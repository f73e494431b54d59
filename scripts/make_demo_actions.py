"""Build data/actions/actions.xlsx and tfpb.csv, the Soissons demo's illustrative programme."""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

OUT = Path("/work/main/data/actions")
SC, PR, CH, ALL = "Saint-Crépin Ouest", "Presles", "Chevreux", "Tous"
FUNDERS = ["État (P147)", "État (droit commun)", "Ville de Soissons", "GrandSoissons",
           "CAF de l'Aisne", "Département de l'Aisne", "Région Hauts-de-France", "ANRU",
           "Bailleurs sociaux", "Banque des Territoires", "DRAC", "ARS", "Agence de l'eau"]
P147, ETAT, VILLE, GSA, CAF, DEP, REG, ANRU, BAIL, BDT, DRAC, ARS, AE = FUNDERS
XY = {  # from data/shapes/facilities.geojson (EPSG:2154)
    "jeux_sc": (724396, 6920862), "jeux_pr": (722791, 6919416), "jeux_ch": (724267, 6919363),
    "msp_sc": (724360, 6920708), "superette": (724351, 6920774), "ccas_pr": (722821, 6919556),
    "aulocal": (722887, 6919546), "mission_pr": (722866, 6919619), "police_pr": (722894, 6919597),
    "femmes": (724155, 6919545), "sport_ch": (724363, 6919435), "cs_ch": (724212, 6919587),
    "ms_ch": (724184, 6919487),
}
# ref, title, pillar, theme, operator, quartiers, start, end, status, beneficiaries, total,
# location, {funder: amount}
ACTIONS = [
    ("SC-01", "NPNRU Saint-Crépin : démolition de collectifs et reconstruction de logements "
     "individuels (tranche 2024)", "Cadre de vie et renouvellement urbain", "Renouvellement urbain",
     "Bailleur social", SC, "2019", "2027", "En cours", None, "400 000 €", None,
     {ANRU: "200 000 €", BAIL: "150 000 €", VILLE: "50 000 €"}),
    ("SC-02", "Projet de maison de santé pluriprofessionnelle", "Cohésion sociale", "Santé",
     "Ville de Soissons", SC, "01/2024", "12/2026", "Prévue", None, "45 000 €", "msp_sc",
     {VILLE: "15 000 €", ARS: "20 000 €", REG: "10 000 €"}),
    ("SC-03", "Supérette du cœur de quartier", "Emploi et développement économique", "Commerce",
     "Ville de Soissons", SC, "03/2024", "12/2025", "En cours", None, "40 000 €", "superette",
     {BDT: "20 000 €", VILLE: "10 000 €", GSA: "10 000 €"}),
    ("SC-04", "Gestion urbaine et sociale de proximité (GUSP)", "Cadre de vie et renouvellement "
     "urbain", "Gestion urbaine de proximité", "Ville de Soissons", ALL, "01/2024", "12/2024",
     "Réalisée", None, "38 000 €", None, {P147: "12 000 €", VILLE: "16 000 €", BAIL: "10 000 €"}),
    ("SC-05", "Terrasses barbecue dans les logements collectifs (innovation logement)",
     "Cadre de vie et renouvellement urbain", "Habitat", "Bailleur social", SC, "2024", "2025",
     "En cours", None, "25 000 €", None, {BAIL: "25 000 €"}),
    ("SC-06", "Aire de jeux d'eau de Saint-Crépin (contre le street pooling)", "Cadre de vie et "
     "renouvellement urbain", "Espaces publics", "Ville de Soissons", SC, "03/2024", "06/2024",
     "Réalisée", None, "120 000 €", "jeux_sc",
     {VILLE: "60 000 €", ETAT: "40 000 €", GSA: "20 000 €"}),
    ("PR-06", "Aire de jeux d'eau de Presles (contre le street pooling)", "Cadre de vie et "
     "renouvellement urbain", "Espaces publics", "Ville de Soissons", PR, "03/2024", "06/2024",
     "Réalisée", None, "115 000 €", "jeux_pr",
     {VILLE: "55 000 €", ETAT: "40 000 €", GSA: "20 000 €"}),
    ("CH-06", "Aire de jeux d'eau de Chevreux (contre le street pooling)", "Cadre de vie et "
     "renouvellement urbain", "Espaces publics", "Ville de Soissons", CH, "03/2024", "06/2024",
     "Réalisée", None, "110 000 €", "jeux_ch",
     {VILLE: "50 000 €", ETAT: "40 000 €", GSA: "20 000 €"}),
    ("SC-07", "Renaturation : plantation d'arbres et désimperméabilisation des cours d'écoles",
     "Cadre de vie et renouvellement urbain", "Nature en ville", "Ville de Soissons",
     f"{SC} ; {CH}", "2023", "2025", "En cours", None, "180 000 €", None,
     {ETAT: "90 000 €", AE: "54 000 €", VILLE: "36 000 €"}),
    ("TR-01", "Permanences des travailleurs sociaux du CCAS", "Cohésion sociale",
     "Accès aux droits", "CCAS de Soissons", ALL, "01/2024", "12/2024", "Réalisée",
     f"{SC} : 140 ; {PR} : 310 ; {CH} : 120", "30 000 €", None, {VILLE: "30 000 €"}),
    ("TR-02", "Médiateurs de GrandSoissons Agglomération (GSA) et adultes relais",
     "Cohésion sociale", "Médiation", "GrandSoissons Agglomération", ALL, "01/2024", "12/2024",
     "Réalisée", None, "96 000 €", None, {P147: "60 000 €", GSA: "36 000 €"}),
    ("PR-01", "Retour des services au cœur de Presles : installation du CCAS et du PRE",
     "Cohésion sociale", "Services publics", "Ville de Soissons", PR, "01/2024", "06/2024",
     "Réalisée", None, "70 000 €", "ccas_pr", {VILLE: "50 000 €", ETAT: "20 000 €"}),
    ("TR-03", "Programme de réussite éducative (PRE)", "Jeunesse", "Éducation",
     "CCAS de Soissons", ALL, "09/2023", "07/2024", "Réalisée", 160, "110 000 €", None,
     {P147: "70 000 €", VILLE: "40 000 €"}),
    ("PR-02", "Permanence de la mission locale à Presles", "Emploi et développement "
     "économique", "Insertion professionnelle", "Mission locale du Soissonnais", PR, "01/2024",
     "12/2024", "Réalisée", 210, "35 000 €", "mission_pr",
     {P147: "10 000 €", REG: "15 000 €", GSA: "10 000 €"}),
    ("PR-03", "#AuLocal : création et animation du tiers-lieu", "Cohésion sociale",
     "Lien social", "Ville de Soissons", PR, "03/2024", "12/2024", "Réalisée", 450, "28 000 €",
     "aulocal", {P147: "12 500 €", VILLE: "7 500 €", CAF: "8 000 €"}),
    ("PR-04", "Permanence Cités Lab (aide à la création d'entreprise)", "Emploi et "
     "développement économique", "Création d'entreprise", "Cités Lab", PR, "01/2024",
     "12/2024", "Réalisée", 45, "30 000 €", "aulocal",
     {BDT: "15 000 €", P147: "10 000 €", GSA: "5 000 €"}),
    ("PR-05", "Police municipale de proximité", "Cohésion sociale", "Tranquillité publique",
     "Ville de Soissons", f"{PR} ; {CH}", "2024", "2024", "En cours", None, "45 000 €",
     None, {VILLE: "45 000 €"}),
    ("PR-07", "Étude de la centralité commerciale de Presles", "Emploi et développement "
     "économique", "Commerce", "Ville de Soissons", PR, "09/2024", "06/2025", "En cours", None,
     "40 000 €", None, {BDT: "20 000 €", VILLE: "20 000 €"}),
    ("CH-01", "Requalification des façades par l'OPAL (tranche 2024)", "Cadre de vie et "
     "renouvellement urbain", "Habitat", "OPAL", CH, "2023", "2025", "En cours", None,
     "300 000 €", None, {BAIL: "240 000 €", REG: "60 000 €"}),
    ("CH-02", "Maison de l'égalité et des droits des femmes : accueil de jour des femmes "
     "victimes de violences conjugales", "Égalité femmes-hommes", "Violences faites aux femmes",
     "CIDFF de l'Aisne", CH, "01/2024", "12/2024", "Réalisée", 180, "85 000 €", "femmes",
     {P147: "25 000 €", ETAT: "30 000 €", DEP: "20 000 €", VILLE: "10 000 €"}),
    ("CH-03", "Antenne départementale du CIDFF (4 agents dont une juriste)", "Égalité "
     "femmes-hommes", "Accès aux droits", "CIDFF de l'Aisne", CH, "01/2024", "12/2024",
     "Réalisée", 420, "160 000 €", "femmes", {DEP: "100 000 €", ETAT: "60 000 €"}),
    ("CH-04", "Groupes de parole pour les enfants témoins ou victimes de violences conjugales",
     "Égalité femmes-hommes", "Parentalité", "Amsam", CH, "01/2024", "12/2024", "Réalisée", 24,
     "12 000 €", "femmes", {P147: "6 000 €", CAF: "6 000 €"}),
    ("CH-05", "Activités artistiques et manuelles des associations du territoire",
     "Cohésion sociale", "Culture", "Associations du quartier", CH, "01/2024", "12/2024",
     "Réalisée", 95, "15 000 €", "femmes", {P147: "10 000 €", VILLE: "5 000 €"}),
    ("CH-07", "Ateliers sur la condition féminine (CPIE, sage-femme)", "Égalité femmes-hommes",
     "Santé", "CPIE des Pays de l'Aisne", CH, "01/2024", "12/2024", "Réalisée", 60, "8 000 €",
     "femmes", {P147: "5 000 €", DEP: "3 000 €"}),
    ("CH-08", "Permanence de France Victimes avec une psychologue", "Cohésion sociale",
     "Aide aux victimes", "France Victimes 02", CH, "01/2024", "12/2024", "Réalisée", 70,
     "14 000 €", "femmes", {ETAT: "9 000 €", P147: "5 000 €"}),
    ("CH-09", "Formations aux premiers secours (ANPS)", "Citoyenneté et valeurs de la "
     "République", "Engagement citoyen", "ANPS", CH, "01/2024", "12/2024", "Réalisée", 48,
     "4 800 €", "femmes", {P147: "3 000 €", VILLE: "1 800 €"}),
    ("CH-10", "Permanences de la PMI", "Cohésion sociale", "Santé", "Département de l'Aisne",
     CH, "01/2024", "12/2024", "Réalisée", None, "30 000 €", "femmes", {DEP: "30 000 €"}),
    ("CH-11", "Complexe sportif de Chevreux (boxe, kick-boxing, tennis de table)",
     "Cohésion sociale", "Sport", "Ville de Soissons", CH, "2023", "2024", "Réalisée", None,
     "650 000 €", "sport_ch",
     {VILLE: "250 000 €", ETAT: "200 000 €", REG: "120 000 €", DEP: "80 000 €"}),
    ("CH-12", "Ouverture du nouveau centre social de Chevreux", "Cohésion sociale",
     "Lien social", "Ville de Soissons", CH, "09/2024", "12/2024", "Réalisée", None,
     "220 000 €", "cs_ch", {CAF: "110 000 €", VILLE: "80 000 €", P147: "30 000 €"}),
    ("CH-13", "Maison de santé de Chevreux", "Cohésion sociale", "Santé", "Ville de Soissons",
     CH, "2022", "2024", "Réalisée", None, "400 000 €", "ms_ch",
     {VILLE: "150 000 €", ETAT: "150 000 €", REG: "100 000 €"}),
    ("CH-14", "Démolition de collectifs et reconstruction de maisons individuelles "
     "(« Ma maison dans l'Aisne », tranche 2024)", "Cadre de vie et renouvellement urbain",
     "Renouvellement urbain", "OPAL", CH, "2022", "2027", "En cours", None, "350 000 €", None,
     {ANRU: "150 000 €", BAIL: "150 000 €", DEP: "50 000 €"}),
    ("CH-15", "Agences de proximité des bailleurs sociaux", "Cadre de vie et renouvellement "
     "urbain", "Gestion locative", "Bailleurs sociaux", f"{SC} ; {CH}", "2024", "2024",
     "En cours", None, None, None, {}),
    ("TR-04", "Cité éducative", "Jeunesse", "Éducation", "Éducation nationale et Ville de "
     "Soissons", ALL, "09/2023", "08/2024", "En cours", 1800, "300 000 €", None,
     {P147: "200 000 €", VILLE: "60 000 €", CAF: "40 000 €"}),
    ("TR-05", "Qu(Art)ier : résidence d'artistes avec la DRAC", "Cohésion sociale",
     "Culture", "Ville de Soissons", ALL, "04/2024", "11/2024", "Réalisée", 260, "40 000 €",
     None, {DRAC: "20 000 €", VILLE: "10 000 €", P147: "10 000 €"}),
    ("TR-06", "Exposition « Nos Héros des Quartiers »", "Jeunesse", "Valorisation des "
     "habitants", "Mission locale du Soissonnais", ALL, "05/2024", "06/2024", "Réalisée", 30,
     "9 000 €", None, {P147: "9 000 €"}),
    ("TR-07", "Ingénierie du contrat de ville (service de la politique de la ville)",
     "Cohésion sociale", "Pilotage", "Ville de Soissons", None, "01/2024", "12/2024",
     "En cours", None, "60 000 €", None, {P147: "30 000 €", VILLE: "30 000 €"}),
]


def build_xlsx() -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Lisez-moi"
    notes["A1"] = ("DONNÉES ILLUSTRATIVES — programmation inventée pour la démonstration cdv_geo "
                   "(Soissons), d'après l'entretien du maire. Aucun montant n'est réel.")
    ws = wb.create_sheet("Programmation 2024")
    heads = ["Réf.", "Intitulé de l'action", "Pilier", "Thématique", "Porteur", "Quartier(s)",
             "Début", "Fin", "Statut", "Bénéficiaires", "Coût total (€)", "X", "Y", "Exercice"]
    width = len(heads) + len(FUNDERS)
    ws.cell(1, 1, "Contrat de ville de Soissons — programmation 2024 (DONNÉES ILLUSTRATIVES)")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=13)
    for j, text in enumerate(heads, start=1):
        ws.cell(2, j, text).font = Font(bold=True)
        ws.merge_cells(start_row=2, start_column=j, end_row=3, end_column=j)
    first = len(heads) + 1
    ws.cell(2, first, "Financements").font = Font(bold=True)
    ws.cell(2, first).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=first, end_row=3 - 1, end_column=width)
    for k, f in enumerate(FUNDERS):
        ws.cell(3, first + k, f).font = Font(bold=True)
    for r, (ref, title, pillar, theme, op, quart, start, end, status, ben, total, loc,
            money) in enumerate(ACTIONS, start=4):
        xy = XY[loc] if loc else (None, None)
        values = [ref, title, pillar, theme, op, quart, start, end, status, ben, total, *xy,
                  2024]
        for j, v in enumerate(values, start=1):
            ws.cell(r, j, v)
        for k, f in enumerate(FUNDERS):
            if f in money:
                ws.cell(r, first + k, money[f])
    ws.freeze_panes = "C4"
    wb.save(OUT / "actions.xlsx")


PAV = {  # point d'apport volontaire -> (quartier, x, y), from the facilities layer
    "rue des Tourterelles (nord)": (SC, 724479, 6921034),
    "allée Georges Brassens": (SC, 724186, 6920741),
    "rue des Marronniers": (SC, 724623, 6920698),
    "avenue du Stade": (SC, 724339, 6920574),
    "rue des Tourterelles (sud)": (SC, 724225, 6920947),
    "rue des Sarts": (PR, 722954, 6919378),
    "rue des Lilas": (PR, 722838, 6919450),
    "allée Guy Môquet": (PR, 722949, 6919624),
    "rue Albert Camus": (PR, 723039, 6919714),
    "rue Louise Michel": (CH, 724072, 6919390),
    "rue Jean Monnet": (CH, 724376, 6919333),
    "allée Jacques Prévert": (CH, 724316, 6919674),
    "rue Germaine Tillion": (CH, 724099, 6919733),
    "impasse Jacques Prévert": (CH, 724381, 6919728),
}
OPAL, BB = "OPAL", "Bailleur B"
TFPB = [  # landlord, quartier, year, axis, action, amount (PAV lines added below)
    (OPAL, CH, 2024, "Abattement", "", 145000),
    (OPAL, CH, 2024, "Renforcement de la présence de proximité", "Gardiens en renfort", 38000),
    (OPAL, CH, 2024, "Sur-entretien", "Nettoyage renforcé des halls", 24000),
    (OPAL, CH, 2024, "Tranquillité résidentielle", "Médiation de nuit", 18000),
    (OPAL, CH, 2024, "Concertation et sensibilisation des locataires", "Réunions de hall", 4000),
    (OPAL, CH, 2024, "Animation, lien social, vivre ensemble", "Fête des voisins", 8000),
    (OPAL, CH, 2024, "Petits travaux d'amélioration de la qualité de service",
     "Éclairage des parkings", 6000),
    (OPAL, PR, 2024, "Abattement", "", 96000),
    (OPAL, PR, 2024, "Renforcement de la présence de proximité", "Gardiens en renfort", 22000),
    (OPAL, PR, 2024, "Sur-entretien", "Nettoyage renforcé des halls", 15000),
    (OPAL, PR, 2024, "Tranquillité résidentielle", "Médiation de nuit", 12000),
    (OPAL, PR, 2024, "Animation, lien social, vivre ensemble", "Jardins partagés", 6000),
    (OPAL, SC, 2024, "Abattement", "", 52000),
    (OPAL, SC, 2024, "Sur-entretien", "Nettoyage renforcé des halls", 10000),
    (OPAL, SC, 2024, "Formation et soutien des personnels de proximité",
     "Formation à la gestion des conflits", 3000),
    (OPAL, SC, 2024, "Animation, lien social, vivre ensemble", "Fête des voisins", 5000),
    (BB, PR, 2024, "Abattement", "", 64000),
    (BB, PR, 2024, "Renforcement de la présence de proximité", "Agent d'ambiance", 20000),
    (BB, PR, 2024, "Tranquillité résidentielle", "Vidéoprotection des parkings", 15000),
    (BB, PR, 2024, "Petits travaux d'amélioration de la qualité de service",
     "Portes de halls", 12000),
    (BB, PR, 2024, "Concertation et sensibilisation des locataires", "Diagnostic en marchant",
     3000),
    (BB, SC, 2024, "Abattement", "", 38000),
    (BB, SC, 2024, "Sur-entretien", "Nettoyage renforcé des halls", 6000),
    # 2023: the landlords' statements by axis, without the PAV (installed in 2024)
    (OPAL, CH, 2023, "Abattement", "", 142000),
    (OPAL, CH, 2023, "Renforcement de la présence de proximité", "", 36000),
    (OPAL, CH, 2023, "Sur-entretien", "", 30000),
    (OPAL, CH, 2023, "Gestion des déchets et encombrants", "Enlèvement des encombrants", 20000),
    (OPAL, CH, 2023, "Tranquillité résidentielle", "", 15000),
    (OPAL, CH, 2023, "Animation, lien social, vivre ensemble", "", 7000),
    (OPAL, PR, 2023, "Abattement", "", 94000),
    (OPAL, PR, 2023, "Renforcement de la présence de proximité", "", 20000),
    (OPAL, PR, 2023, "Sur-entretien", "", 20000),
    (OPAL, PR, 2023, "Gestion des déchets et encombrants", "Enlèvement des encombrants", 10000),
    (OPAL, PR, 2023, "Animation, lien social, vivre ensemble", "", 10000),
    (OPAL, SC, 2023, "Abattement", "", 51000),
    (OPAL, SC, 2023, "Sur-entretien", "", 15000),
    (OPAL, SC, 2023, "Gestion des déchets et encombrants", "Enlèvement des encombrants", 10000),
    (OPAL, SC, 2023, "Animation, lien social, vivre ensemble", "", 5000),
    (BB, PR, 2023, "Abattement", "", 62000),
    (BB, PR, 2023, "Renforcement de la présence de proximité", "", 20000),
    (BB, PR, 2023, "Tranquillité résidentielle", "", 15000),
    (BB, PR, 2023, "Gestion des déchets et encombrants", "Enlèvement des encombrants", 15000),
    (BB, SC, 2023, "Abattement", "", 37000),
    (BB, SC, 2023, "Sur-entretien", "", 12000),
    (BB, SC, 2023, "Gestion des déchets et encombrants", "Enlèvement des encombrants", 8000),
]
PAV_OWNER = {"rue des Tourterelles (nord)": OPAL, "allée Georges Brassens": OPAL,
             "rue des Marronniers": BB, "avenue du Stade": BB, "rue des Tourterelles (sud)": BB,
             "rue des Sarts": OPAL, "rue des Lilas": OPAL, "allée Guy Môquet": BB,
             "rue Albert Camus": BB}


def fmt(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f") + " €"


def build_tfpb() -> None:
    rows = [(ll, q, y, axis, title, fmt(a), "", "") for ll, q, y, axis, title, a in TFPB]
    for name, (q, x, y) in PAV.items():
        owner = PAV_OWNER.get(name, OPAL)
        rows.append((owner, q, 2024, "Gestion des déchets et encombrants",
                     f"Point d'apport volontaire — {name}", fmt(9000), x, y))
    order = {OPAL: 0, BB: 1}
    qo = {SC: 0, PR: 1, CH: 2}
    rows.sort(key=lambda r: (order[r[0]], qo[r[1]], r[2], r[3] != "Abattement"))
    with open(OUT / "tfpb.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Bailleur", "Quartier", "Année", "Axe", "Action", "Montant", "X", "Y"])
        w.writerows(rows)


if __name__ == "__main__":
    build_xlsx()
    build_tfpb()
