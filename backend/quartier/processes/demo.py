"""Demo data of the processes domain: Berlin welfare organisations and administration, and three
example planning processes with phase notes, roles and contributions.

Loaded through the same services as the API. Idempotent: nothing happens when any planning
process exists. Social areas are looked up by their Berlin LOR codes; codes that are not
imported (yet) are skipped, so the processes then have no spatial scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.processes import models as m
from quartier.processes import schemas as s
from quartier.processes import services
from quartier.processes.models import OrganisationType as T
from quartier.processes.models import RoleKind as R
from quartier.processes.phases import PHASE_INFO, PHASE_ORDER
from quartier.processes.phases import PhaseKey as P

ORGANISATIONS: list[tuple[str, str, T, str]] = [
    ("Caritasverband für das Erzbistum Berlin e.V.", "Caritas", T.WELFARE_ORGANISATION, ""),
    ("Diakonisches Werk Berlin Stadtmitte e.V.", "Diakonie", T.WELFARE_ORGANISATION, ""),
    ("AWO Landesverband Berlin e.V.", "AWO", T.WELFARE_ORGANISATION, ""),
    ("DRK Landesverband Berliner Rotes Kreuz e.V.", "DRK", T.WELFARE_ORGANISATION, ""),
    ("Der Paritätische Wohlfahrtsverband Berlin e.V.", "Paritätischer", T.WELFARE_ORGANISATION, ""),
    (
        "Bezirksamt Mitte – Sozialraumorientierte Planungskoordination",
        "SPK Mitte",
        T.ADMINISTRATION,
        "Plant und koordiniert sozialraumbezogen im Bezirk Mitte.",
    ),
    ("Bezirksamt Mitte – Jugendamt", "Jugendamt Mitte", T.ADMINISTRATION, ""),
    ("Bezirksamt Neukölln – Amt für Soziales", "Sozialamt Neukölln", T.ADMINISTRATION, ""),
    ("Jugendhilfeausschuss der BVV Mitte", "JHA Mitte", T.COUNCIL_BODY, ""),
    ("Ausschuss für Soziales der BVV Neukölln", "Sozialausschuss Neukölln", T.COUNCIL_BODY, ""),
    (
        "Elternnetzwerk Moabit (Beispiel)",
        "Elternnetzwerk",
        T.RESIDENT_GROUP,
        "Beispiel einer Bewohnergruppe für die Demo.",
    ),
    ("Seniorenvertretung Neukölln", "Seniorenvertretung", T.RESIDENT_GROUP, ""),
]


@dataclass
class DemoProcess:
    data: s.ProcessCreate
    active: P
    publish: bool
    notes: dict[P, s.PhaseUpdate] = field(default_factory=dict)
    roles: list[tuple[str, P, R]] = field(default_factory=list)
    contributions: list[tuple[str, P, str]] = field(default_factory=list)


CHILD_POVERTY = DemoProcess(
    data=s.ProcessCreate(
        title="Kinderarmut in Mitte vorbeugen",
        topic="Kinder- und Familienarmut",
        description=(
            "In Moabit und Gesundbrunnen wächst fast jedes zweite Kind in einer Familie mit "
            "Transferleistungen auf. Der Bezirk will gemeinsam mit den freien Trägern und den "
            "Familien herausfinden, was fehlt, und Angebote zielgenau planen."
        ),
        # The resident pages in every language (the other demo processes show the fallback).
        translations=s.ProcessTranslations(
            en=s.ProcessText(
                title="Preventing child poverty in Mitte",
                topic="Child and family poverty",
                description=(
                    "In Moabit and Gesundbrunnen almost every second child grows up in a family "
                    "on benefits. The district wants to find out with the welfare organisations "
                    "and the families what is missing, and plan services where they are needed."
                ),
            ),
            de_x_simple=s.ProcessText(
                title="Weniger Kinder-Armut in Mitte",
                topic="Armut bei Kindern und Familien",
                description=(
                    "In Moabit und Gesundbrunnen sind viele Familien arm. Der Bezirk will "
                    "wissen: Was fehlt den Familien? Dafür fragt er die Familien. Dann plant "
                    "er passende Hilfen."
                ),
            ),
            tr=s.ProcessText(
                title="Mitte'de çocuk yoksulluğunu önlemek",
                topic="Çocuk ve aile yoksulluğu",
                description=(
                    "Moabit ve Gesundbrunnen'de neredeyse her iki çocuktan biri sosyal yardım "
                    "alan bir ailede büyüyor. Belediye, sosyal yardım kuruluşları ve ailelerle "
                    "birlikte neyin eksik olduğunu bulmak ve hizmetleri buna göre planlamak "
                    "istiyor."
                ),
            ),
            ar=s.ProcessText(
                title="الوقاية من فقر الأطفال في ميته",
                topic="فقر الأطفال والأسر",
                description=(
                    "في موابيت وغيزوندبرونن ينشأ طفل من كل طفلين تقريبًا في أسرة تتلقى "
                    "إعانات. تريد الدائرة أن تكتشف مع منظمات الرعاية والأسر ما ينقص، وأن "
                    "تخطط الخدمات حيث تلزم."
                ),
            ),
        ),
        area_codes=["010221", "010222", "010331", "010332"],
        mandate=s.Mandate(
            commissioned_by="Bezirksverordnetenversammlung Mitte (Beschluss auf Empfehlung "
            "des Jugendhilfeausschusses)",
            commissioned_to="Bezirksamt Mitte, Sozialraumorientierte Planungskoordination, "
            "mit der AG Familienförderung nach § 78 SGB VIII",
            aim="Eine Präventionskette gegen Kinderarmut: Familien erreichen früher "
            "Beratung, Kita, Lernförderung und Freizeitangebote im Kiez.",
            occasion="Sozialbericht des Bezirks: Kinderarmut in Moabit und Gesundbrunnen "
            "deutlich über dem Berliner Durchschnitt.",
            report_recipients="Jugendhilfeausschuss und Ausschuss für Soziales der BVV Mitte",
            translations=s.MandateTranslations(
                en=s.MandateText(
                    commissioned_by="Mitte district council (resolution on the recommendation "
                    "of the youth welfare committee)",
                    commissioned_to="Mitte district office, social area planning coordination, "
                    "with the family support working group under § 78 SGB VIII",
                    aim="A prevention chain against child poverty: families reach advice, "
                    "day care, learning support and leisure activities in the neighbourhood "
                    "sooner.",
                    occasion="The district's social report: child poverty in Moabit and "
                    "Gesundbrunnen well above the Berlin average.",
                    report_recipients="The youth welfare committee and the social affairs "
                    "committee of the Mitte district council",
                ),
                de_x_simple=s.MandateText(
                    commissioned_by="Die Bezirks-Verordneten in Mitte. Sie haben das beschlossen.",
                    commissioned_to="Das Bezirks-Amt Mitte und die Träger für Familien.",
                    aim="Familien sollen früher Hilfe bekommen. Zum Beispiel: Beratung, Kita, "
                    "Hilfe beim Lernen und Freizeit im Kiez.",
                    occasion="In Moabit und Gesundbrunnen sind mehr Kinder arm als in anderen "
                    "Teilen von Berlin.",
                    report_recipients="Die Ausschüsse für Jugend und für Soziales im Bezirk.",
                ),
                tr=s.MandateText(
                    commissioned_by="Mitte ilçe meclisi (gençlik yardımı komitesinin tavsiyesi "
                    "üzerine alınan karar)",
                    commissioned_to="Mitte ilçe belediyesi, sosyal alan planlama koordinasyonu, "
                    "SGB VIII § 78 kapsamındaki aile destek çalışma grubu ile birlikte",
                    aim="Çocuk yoksulluğuna karşı bir önleme zinciri: aileler danışmanlığa, "
                    "kreşe, öğrenme desteğine ve mahalledeki boş zaman etkinliklerine daha erken "
                    "ulaşır.",
                    occasion="İlçenin sosyal raporu: Moabit ve Gesundbrunnen'de çocuk "
                    "yoksulluğu Berlin ortalamasının belirgin şekilde üzerinde.",
                    report_recipients="Mitte ilçe meclisinin gençlik yardımı komitesi ve sosyal "
                    "işler komitesi",
                ),
                ar=s.MandateText(
                    commissioned_by="مجلس دائرة ميته (قرار بناءً على توصية لجنة رعاية الشباب)",
                    commissioned_to="مكتب دائرة ميته، تنسيق التخطيط للمناطق الاجتماعية، مع "
                    "مجموعة عمل دعم الأسرة وفق المادة 78 من الكتاب الثامن من قانون "
                    "الضمان الاجتماعي",
                    aim="سلسلة وقاية من فقر الأطفال: تصل الأسر في وقت أبكر إلى الاستشارة "
                    "والحضانة ودعم التعلم وأنشطة أوقات الفراغ في الحي.",
                    occasion="التقرير الاجتماعي للدائرة: فقر الأطفال في موابيت وغيزوندبرونن "
                    "أعلى بوضوح من متوسط برلين.",
                    report_recipients="لجنة رعاية الشباب ولجنة الشؤون الاجتماعية في مجلس "
                    "دائرة ميته",
                ),
            ),
        ),
    ),
    active=P.NEEDS_ASSESSMENT,
    publish=True,
    notes={
        P.GUIDELINES: s.PhaseUpdate(
            planned_start=date(2025, 1, 15),
            planned_end=date(2025, 3, 31),
            what_is_done="Beschluss der BVV; Auftrag an die Planungskoordination, mit Ziel und "
            "Berichtsweg.",
            who_takes_part="BVV, Jugendhilfeausschuss, Bezirksamt, Liga der Wohlfahrtsverbände",
            watch_out_for="An wen wird berichtet? Den Auftrag schriftlich festhalten.",
        ),
        P.NEEDS_ASSESSMENT: s.PhaseUpdate(
            planned_start=date(2025, 4, 1),
            planned_end=date(2025, 10, 31),
            what_is_done="Befragung von Familien in Kitas, Schulen und Familienzentren; "
            "Auswertung der Sozialdaten; Fachgespräche mit Trägern.",
            who_takes_part="Familien, Kitas und Schulen, Familienzentren, freie Träger, Jugendamt",
            watch_out_for="Familien ohne gute Deutschkenntnisse nicht ausschließen: "
            "mehrsprachig und in leichter Sprache befragen.",
        ),
        P.MEASURE_PLANNING: s.PhaseUpdate(
            planned_start=date(2025, 11, 1), planned_end=date(2026, 3, 31)
        ),
    },
    roles=[
        ("JHA Mitte", P.GUIDELINES, R.COMMISSIONING),
        ("SPK Mitte", P.GUIDELINES, R.PLANNING),
        ("SPK Mitte", P.NEEDS_ASSESSMENT, R.PLANNING),
        ("Jugendamt Mitte", P.NEEDS_ASSESSMENT, R.PARTICIPATING),
        ("Caritas", P.NEEDS_ASSESSMENT, R.PARTICIPATING),
        ("Diakonie", P.NEEDS_ASSESSMENT, R.PARTICIPATING),
        ("AWO", P.NEEDS_ASSESSMENT, R.PARTICIPATING),
        ("Elternnetzwerk", P.NEEDS_ASSESSMENT, R.PARTICIPATING),
        ("Caritas", P.SERVICE_DELIVERY, R.PROVIDING),
        ("AWO", P.SERVICE_DELIVERY, R.PROVIDING),
        ("JHA Mitte", P.SOCIAL_REPORTING, R.RECEIVING_REPORTS),
    ],
    contributions=[
        ("Caritas", P.NEEDS_ASSESSMENT, "Befragung in den drei Familienzentren in Moabit"),
        ("Caritas", P.SERVICE_DELIVERY, "Familienberatung und Schuldnerberatung im Kiez"),
        ("Diakonie", P.NEEDS_ASSESSMENT, "Daten der Erziehungs- und Familienberatung"),
        ("AWO", P.NEEDS_ASSESSMENT, "Elterncafés in Kitas als Orte der Befragung"),
        ("AWO", P.MEASURE_PLANNING, "Erfahrungen aus den Stadtteilmüttern-Projekten"),
        ("Paritätischer", P.GUIDELINES, "Stellungnahme der Liga zum Auftrag"),
        ("Jugendamt Mitte", P.NEEDS_ASSESSMENT, "Sozialdaten je Planungsraum"),
        ("Elternnetzwerk", P.NEEDS_ASSESSMENT, "Eltern als Fachleute in eigener Sache"),
    ],
)

OLDER_PEOPLE = DemoProcess(
    data=s.ProcessCreate(
        title="Gut älter werden in Nord-Neukölln",
        topic="Teilhabe und Versorgung im Alter",
        description=(
            "Mehr ältere Menschen leben allein und mit wenig Geld. Aus der Bedarfsermittlung "
            "2024 entstehen jetzt Maßnahmen: Treffpunkte, aufsuchende Beratung und Wege ohne "
            "Barrieren."
        ),
        area_codes=["080101", "080103", "080104"],
        mandate=s.Mandate(
            commissioned_by="Ausschuss für Soziales der BVV Neukölln",
            commissioned_to="Bezirksamt Neukölln, Amt für Soziales",
            aim="Einsamkeit vorbeugen und Hilfen im Alter erreichbar machen.",
            occasion="Seniorenbefragung 2024 und Altenhilfeplanung des Bezirks",
            report_recipients="Ausschuss für Soziales, Seniorenvertretung Neukölln",
        ),
    ),
    active=P.MEASURE_PLANNING,
    publish=True,
    notes={
        P.MEASURE_PLANNING: s.PhaseUpdate(
            planned_start=date(2025, 9, 1),
            planned_end=date(2026, 2, 28),
            what_is_done="Maßnahmen aus den Bedarfen ableiten, mit Ressourcen und Kriterien "
            "der Zielerreichung.",
            who_takes_part="Seniorinnen und Senioren, Seniorenvertretung, Träger der "
            "Altenhilfe, Bezirksamt",
            watch_out_for="Realistisch planen: Unterziele und messbare Kriterien festlegen.",
        ),
    },
    roles=[
        ("Sozialausschuss Neukölln", P.GUIDELINES, R.COMMISSIONING),
        ("Sozialamt Neukölln", P.MEASURE_PLANNING, R.PLANNING),
        ("DRK", P.MEASURE_PLANNING, R.PARTICIPATING),
        ("Diakonie", P.MEASURE_PLANNING, R.PARTICIPATING),
        ("Seniorenvertretung", P.MEASURE_PLANNING, R.PARTICIPATING),
        ("DRK", P.SERVICE_DELIVERY, R.PROVIDING),
        ("Seniorenvertretung", P.SOCIAL_REPORTING, R.RECEIVING_REPORTS),
    ],
    contributions=[
        ("DRK", P.MEASURE_PLANNING, "Konzept für aufsuchende Seniorenberatung"),
        ("DRK", P.SERVICE_DELIVERY, "Besuchsdienst und Mittagstisch"),
        ("Diakonie", P.MEASURE_PLANNING, "Erfahrungen der Sozialstationen"),
        ("Seniorenvertretung", P.MEASURE_PLANNING, "Begehungen: Wege und Treffpunkte"),
    ],
)

HOMELESSNESS = DemoProcess(
    data=s.ProcessCreate(
        title="Wohnungslosigkeit in Mitte vorbeugen",
        topic="Wohnen und Wohnungsnotfallhilfe",
        area_codes=["01"],
        mandate=s.Mandate(commissioned_by="Bezirksverordnetenversammlung Mitte"),
        internal_notes="Entwurf: Auftrag wird im Ausschuss noch beraten.",
    ),
    active=P.GUIDELINES,
    publish=False,
    roles=[("Paritätischer", P.GUIDELINES, R.PARTICIPATING)],
)

PROCESSES = [CHILD_POVERTY, OLDER_PEOPLE, HOMELESSNESS]


async def load(session: AsyncSession) -> str:
    if await session.scalar(sa.select(sa.func.count()).select_from(m.PlanningProcess)):
        return "processes: demo skipped (planning processes exist)"
    organisations: dict[str, m.Organisation] = {}
    for name, short_name, kind, description in ORGANISATIONS:
        existing = await session.scalar(
            sa.select(m.Organisation).where(sa.func.lower(m.Organisation.name) == name.lower())
        )
        if existing is None:
            existing = m.Organisation(
                name=name, short_name=short_name, type=kind, description=description
            )
            session.add(existing)
        organisations[short_name] = existing
    await session.flush()
    codes = {code for demo in PROCESSES for code in demo.data.area_codes}
    known = set(
        (await session.scalars(sa.select(SocialArea.code).where(SocialArea.code.in_(codes)))).all()
    )
    for demo in PROCESSES:
        data = demo.data
        scoped = [code for code in data.area_codes if code in known]
        process_id = await services.create_process(
            session,
            s.ProcessCreate(
                title=data.title,
                topic=data.topic,
                description=data.description,
                area_codes=scoped,
                mandate=data.mandate,
                internal_notes=data.internal_notes,
                translations=data.translations,
            ),
            services.SYSTEM,
        )
        for phase, notes in demo.notes.items():
            await services.update_phase(session, process_id, phase, notes)
        for short_name, phase, role in demo.roles:
            await services.add_role(
                session,
                process_id,
                s.ProcessRoleCreate(
                    organisation_id=organisations[short_name].id, phase=phase, role=role
                ),
            )
        for short_name, phase, text in demo.contributions:
            await services.set_contribution(
                session, process_id, organisations[short_name].id, phase, text
            )
        for phase in PHASE_ORDER[1 : PHASE_INFO[demo.active].position]:
            await services.activate_phase(session, process_id, phase, services.SYSTEM)
        if demo.publish:
            await services.publish_process(session, process_id)
    scope = "with social areas" if known else "without social areas (none imported)"
    return (
        f"processes: {len(PROCESSES)} planning processes and {len(ORGANISATIONS)} "
        f"organisations loaded {scope}"
    )
