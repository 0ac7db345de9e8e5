"""The authorisation matrix: every operation × every kind of caller → allowed or not.

The table below is the declaration a municipality's IT department reviews. The tests prove that
(1) it names every operation of the contract and nothing else, (2) each handler's declared access
rule agrees with it, and (3) the running app refuses every caller the table does not allow (401
for anonymous callers, 403 for others) and lets every allowed caller past the guard.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from quartier.core.security import SCOPES, Access, Principal, Role
from tests.conftest import LoginFactory, TokenFactory

CONTRACT = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"

ANONYMOUS = "anonymous"
STAFF_CALLERS = ("moderator", "planner", "admin")
TOKEN_CALLERS = tuple(f"token:{scope}" for scope in sorted(SCOPES))
CALLERS = (ANONYMOUS, *STAFF_CALLERS, *TOKEN_CALLERS)

EVERYONE = frozenset(CALLERS)
STAFF = frozenset(STAFF_CALLERS)
PLANNERS = frozenset({"planner", "admin"})
ADMINS = frozenset({"admin"})
ANY_TOKEN = frozenset(TOKEN_CALLERS)


def tokens(*scopes: str) -> frozenset[str]:
    assert set(scopes) <= set(SCOPES), scopes
    return frozenset(f"token:{scope}" for scope in scopes)


# operationId → the callers allowed to call it.
MATRIX: dict[str, frozenset[str]] = {
    # accounts
    "SignIn": EVERYONE,
    "SignOut": STAFF,
    "GetCurrentPrincipal": STAFF | ANY_TOKEN,
    "ListStaffAccounts": ADMINS,
    "CreateStaffAccount": ADMINS,
    "GetStaffAccount": ADMINS,
    "UpdateStaffAccount": ADMINS,
    "ListApiTokens": ADMINS,
    "CreateApiToken": ADMINS,
    "RevokeApiToken": ADMINS,
    # social areas
    **dict.fromkeys(
        [
            "ListSocialAreas",
            "GetSocialArea",
            "GetSocialAreaByCode",
            "ListSocialAreaChildren",
            "ListSocialAreaAncestors",
            "ListSocialAreaVersions",
            "LookupSocialAreasByPoint",
            "ExportSocialAreasGeoJSON",
            "ListAreaLevels",
        ],
        EVERYONE,
    ),
    "ImportSocialAreas": ADMINS | tokens("areas:write"),
    # planning processes, phases, organisations, roles, contributions, participation
    **dict.fromkeys(
        [
            "ListProcesses",
            "GetProcess",
            "ListPhases",
            "ListOrganisations",
            "GetOrganisation",
            "ListProcessRoles",
            "GetProcessRole",
            "ListContributions",
            "GetContributionsMatrix",
            "ListParticipationModules",
            "GetParticipationStatus",
        ],
        EVERYONE,
    ),
    # the activation history names staff members
    "ListPhaseActivations": STAFF | tokens("processes:read", "processes:write"),
    **dict.fromkeys(
        [
            "CreateProcess",
            "UpdateProcess",
            "PublishProcess",
            "ArchiveProcess",
            "StartNextCycle",
            "UpdatePhase",
            "ActivatePhase",
            "CreateOrganisation",
            "UpdateOrganisation",
            "DeleteOrganisation",
            "AddProcessRole",
            "RemoveProcessRole",
            "SetContribution",
            "RemoveContribution",
            "SetParticipationOverride",
            "RemoveParticipationOverride",
        ],
        PLANNERS | tokens("processes:write"),
    ),
    # surveys and need categories (surveys.controllers)
    **dict.fromkeys(
        [
            "ListSurveys",
            "GetSurvey",
            "SubmitSurveyResponse",
            "GetResponseReceipt",
            "WithdrawSurveyResponse",
            "ListNeedCategories",
        ],
        EVERYONE,
    ),
    **dict.fromkeys(
        [
            "CreateSurvey",
            "ImportSurveyDefinition",
            "UpdateSurvey",
            "PublishSurvey",
            "CloseSurvey",
            "GenerateInvitationCodes",
        ],
        PLANNERS | tokens("surveys:write"),
    ),
    "ExportSurveyDefinition": PLANNERS | tokens("surveys:read", "surveys:write"),
    # survey files (surveys.file_controllers): XLSForm, invitation letters
    "ImportSurveyXlsForm": PLANNERS | tokens("surveys:write"),
    "ExportSurveyXlsForm": PLANNERS | tokens("surveys:read", "surveys:write"),
    "PrintInvitationLetters": PLANNERS | tokens("surveys:write"),
    "EnterPaperResponse": STAFF | tokens("surveys:write"),
    "ImportSurveyResponses": STAFF | tokens("surveys:write"),
    "GetSurveyResults": PLANNERS | tokens("surveys:read"),
    "SetSurveyResultsPublication": PLANNERS | tokens("surveys:write"),
    "CreateNeedCategory": ADMINS | tokens("surveys:write"),
    "UpdateNeedCategory": ADMINS | tokens("surveys:write"),
    # aggregated needs (surveys.export_controllers)
    "GetAggregatedNeeds": PLANNERS | tokens("surveys:read", "exports:read"),
    "GetProcessAggregatedNeeds": PLANNERS | tokens("surveys:read", "exports:read"),
    "ExportAggregatedNeeds": PLANNERS | tokens("exports:read"),
    # area indicators (measured need)
    **dict.fromkeys(
        ["ListIndicators", "GetIndicator", "ListIndicatorValues", "GetIndicatorAreaSeries"],
        EVERYONE,
    ),
    **dict.fromkeys(
        [
            "ImportIndicator",
            "ImportIndicatorValuesCsv",
            "LinkIndicatorNeedCategory",
            "UnlinkIndicatorNeedCategory",
        ],
        PLANNERS | tokens("indicators:write"),
    ),
    "GetNeedComparison": PLANNERS | tokens("surveys:read", "exports:read"),
    "MarkNeedGap": PLANNERS | tokens("processes:write"),
    "UnmarkNeedGap": PLANNERS | tokens("processes:write"),
    "ExportProcessAggregatedNeeds": PLANNERS | tokens("exports:read"),
    # webhooks (webhooks.controllers): subscriptions hold signing secrets
    **dict.fromkeys(
        [
            "ListWebhookSubscriptions",
            "CreateWebhookSubscription",
            "GetWebhookSubscription",
            "UpdateWebhookSubscription",
            "DeleteWebhookSubscription",
            "RotateWebhookSecret",
            "ListWebhookDeliveries",
            "ReplayWebhookDelivery",
        ],
        ADMINS,
    ),
    # goals, measures, feedback (measures.controllers)
    **dict.fromkeys(
        [
            "ListGoals",
            "GetGoal",
            "ListMeasures",
            "GetMeasure",
            "ListMeasureVersions",
            "DiffMeasureVersions",
            "SubmitMeasureFeedback",
            "GetMeasureFeedbackSummary",
            "GetTraceability",
            # public exactly when the summary is (the service answers 403 before that)
            "GetMeasureConsultationReport",
            "GetMeasureConsultationReportPdf",
        ],
        EVERYONE,
    ),
    # the administration's working paper until the council decides
    **dict.fromkeys(
        ["GetMeasureDecisionTemplate", "GetMeasureDecisionTemplatePdf"],
        STAFF | tokens("measures:read", "measures:write"),
    ),
    "ExportMeasureFeedbackSummary": PLANNERS | tokens("exports:read"),
    # the lifecycle history names staff members
    "ListMeasureTransitions": STAFF | tokens("measures:read", "measures:write"),
    "ListMeasureFeedbackComments": STAFF | tokens("measures:read", "measures:write"),
    "ModerateMeasureFeedbackComment": frozenset({"moderator", "admin"}) | tokens("measures:write"),
    **dict.fromkeys(
        [
            "CreateGoal",
            "UpdateGoal",
            "CreateMeasure",
            "UpdateMeasure",
            "StartMeasureConsultation",
            "ReviseMeasure",
            "AdoptMeasure",
            "ResourceMeasure",
            "StartMeasureDelivery",
            "EvaluateMeasure",
            "WithdrawMeasure",
            "IssueConsultationCodes",
        ],
        PLANNERS | tokens("measures:write"),
    ),
    # delivery and evaluation of measures (measures.delivery_controllers)
    "ListDeliveryReports": STAFF | tokens("measures:read", "measures:write", "delivery:write"),
    "CreateDeliveryReport": PLANNERS | tokens("delivery:write"),
    "GetMeasureEvaluation": EVERYONE,
    **dict.fromkeys(
        ["RecordMeasureAssessment", "LinkEvaluationSurvey", "UnlinkEvaluationSurvey"],
        PLANNERS | tokens("measures:write"),
    ),
    # ideas (ideas.controllers): residents need no account
    **dict.fromkeys(
        [
            "SubmitIdea",
            "ListIdeas",
            "GetIdeasGeoJSON",
            "GetIdea",
            "ListIdeaComments",
            "SubmitIdeaComment",
            "SubmitIdeaSupport",
            "WithdrawIdeaSupport",
            "SubmitIdeaReport",
            "GetFollowedIdea",
            "EditFollowedIdea",
            "WithdrawFollowedIdea",
            "StopIdeaEmails",
        ],
        EVERYONE,
    ),
    **dict.fromkeys(
        [
            "PublishIdea",
            "HideIdea",
            "RestoreIdea",
            "DismissIdeaReports",
            "MergeIdea",
            "PublishIdeaComment",
            "HideIdeaComment",
        ],
        frozenset({"moderator", "admin"}) | tokens("ideas:moderate"),
    ),
    "ListIdeaModerationQueue": frozenset({"moderator", "admin"})
    | tokens("ideas:moderate", "ideas:read"),
    "ListIdeaModerationLog": ADMINS | tokens("ideas:moderate"),
    "AnswerIdea": PLANNERS | tokens("ideas:write"),
    "SetIdeaSettings": PLANNERS | tokens("ideas:write"),
    "GetIdeaAggregates": PLANNERS | tokens("ideas:read", "exports:read"),
    "ExportIdeaAggregates": PLANNERS | tokens("exports:read"),
    "ExportIdeaAggregatesFile": PLANNERS | tokens("exports:read"),
    "GetAreaNeedsSideBySide": PLANNERS | tokens("ideas:read", "exports:read"),
    # open data (opendata.controllers): the catalogue and what it lists are public
    "GetOpenDataCatalog": EVERYONE,
    "ExportOpenSurveyNeeds": EVERYONE,
    # inventory (services of organisations, rounds, supply beside need)
    "ListServices": EVERYONE,
    "GetService": EVERYONE,
    "UpdateService": PLANNERS | tokens("inventory:write"),
    "EndService": PLANNERS | tokens("inventory:write"),
    "ListOrganisationServices": PLANNERS | tokens("inventory:read"),
    "CreateService": PLANNERS | tokens("inventory:write"),
    "ListInventoryRounds": PLANNERS | tokens("inventory:read"),
    "StartInventoryRound": PLANNERS | tokens("inventory:write"),
    "GetInventoryRound": PLANNERS | tokens("inventory:read"),
    "CloseInventoryRound": PLANNERS | tokens("inventory:write"),
    "GetSupplyComparison": PLANNERS | tokens("inventory:read", "exports:read"),
    "ExportSupplyComparison": PLANNERS | tokens("inventory:read", "exports:read"),
    # the social report: public once released (the service answers 404 before, except to
    # staff and report tokens); editing and releasing for planners
    "GetSocialReport": EVERYONE,
    "GetSocialReportPdf": EVERYONE,
    "UpdateSocialReportSections": PLANNERS | tokens("reports:write"),
    "ReleaseSocialReport": PLANNERS | tokens("reports:write"),
}


def _operations() -> list[tuple[str, str, str]]:
    document = json.loads(CONTRACT.read_text())
    return [
        (operation["operationId"], method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _principal(caller: str) -> Principal | None:
    if caller == ANONYMOUS:
        return None
    if caller.startswith("token:"):
        return Principal(
            kind="token",
            id=uuid.uuid4(),
            name=caller,
            scopes=frozenset({caller.removeprefix("token:")}),
        )
    return Principal(kind="staff", id=uuid.uuid4(), name=caller, role=Role(caller))


def test_matrix_names_every_operation_of_the_contract() -> None:
    contract = {operation_id for operation_id, _, _ in _operations()}
    assert sorted(contract - MATRIX.keys()) == [], "operations missing from the matrix"
    assert sorted(MATRIX.keys() - contract) == [], "matrix names operations that do not exist"


def test_declared_access_rules_agree_with_the_matrix(app: Litestar) -> None:
    seen = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            assert isinstance(handler, HTTPRouteHandler)
            if not handler.resolve_include_in_schema() or handler.http_methods == {"OPTIONS"}:
                continue  # pages, static files, and Litestar's automatic OPTIONS answers
            rule = handler.opt.get("access")
            assert isinstance(rule, Access), f"{route.path} declares no access rule"
            operation_id = handler.operation_id
            assert isinstance(operation_id, str), f"{route.path} has no explicit operationId"
            seen += 1
            allowed = {caller for caller in CALLERS if rule.permits(_principal(caller))}
            assert allowed == MATRIX[operation_id], operation_id
    assert seen == len(MATRIX)


def _concrete(path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(uuid.uuid4()) if "id" in name else "01"

    return re.sub(r"\{([^}:]+)[^}]*\}", fill, path)


@pytest.fixture
async def callers(login_as: LoginFactory, make_token: TokenFactory) -> dict[str, dict[str, str]]:
    headers: dict[str, dict[str, str]] = {ANONYMOUS: {}}
    for role in STAFF_CALLERS:
        headers[role] = await login_as(role)
    for caller in TOKEN_CALLERS:
        headers[caller] = await make_token({caller.removeprefix("token:")})
    return headers


async def test_the_app_enforces_the_matrix(
    client: AsyncTestClient[Litestar], callers: dict[str, dict[str, str]]
) -> None:
    failures: list[str] = []
    for operation_id, method, path in _operations():
        if operation_id == "SignOut":
            continue  # ends the caller's session; covered in tests/accounts
        url = _concrete(path)
        for caller in CALLERS:
            kwargs: dict[str, Any] = {"headers": callers[caller]}
            if method in {"POST", "PUT", "PATCH"}:
                kwargs["json"] = {}
            response = await client.request(method, url, **kwargs)
            allowed = caller in MATRIX[operation_id]
            status = response.status_code
            if allowed and status in (401, 403):
                failures.append(f"{operation_id} {caller}: {status}, expected to pass the guard")
            if not allowed and status != (401 if caller == ANONYMOUS else 403):
                failures.append(f"{operation_id} {caller}: {status}, expected refusal")
    assert failures == []
