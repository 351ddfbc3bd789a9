"""Templates: stored message templates of a domain and their versions."""

from typing import Annotated, Literal

from pydantic import AliasChoices, Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, Domain, HeaderText, JsonText, Limit, Params, Query, YesNo

# Mailgun calls the template's name `name`, its text `template` and a version's tag `tag`; the tools
# use the names every tool shares (template_name, template, template_version) and accept Mailgun's.
TemplateName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^\S+$",
        description="Template name (stored lower-cased)",
        serialization_alias="name",
        validation_alias=AliasChoices("template_name", "name"),
    ),
]
VersionTag = Annotated[str, Field(min_length=1, max_length=255, description="Version tag, e.g. v2")]
VERSION_ALIASES = AliasChoices("template_version", "tag")
Text = Annotated[
    str, Field(min_length=1, max_length=100 * 1024, description="Template body, Handlebars: <p>Hi {{name}}</p>")
]
TEXT_ALIASES = AliasChoices("template", "content")
Active = Annotated[YesNo | None, Field(description="Make it the version used for sending")]
PageSize = Annotated[Limit, Field(le=100)]
TemplateHeaders = Annotated[
    dict[Literal["From", "Subject", "Reply-To"], HeaderText] | None,
    JsonText,
    Field(description="Headers added at delivery; message headers win"),
]


class _Template(Params):
    domain: Domain
    template_name: TemplateName


class _Version(_Template):
    template_version: VersionTag = Field(serialization_alias="tag", validation_alias=VERSION_ALIASES)


class ListTemplates(Params):
    """List a domain's stored templates (name, description, created)."""

    domain: Domain
    limit: PageSize = 10
    cursor: Cursor = None


class CreateTemplate(_Template):
    """Store a new template; with its content (template) it gets a first version that is active at once."""

    description: str | None = Field(None, max_length=1024)
    template: Text | None = Field(None, validation_alias=TEXT_ALIASES)
    template_version: VersionTag | None = Field(
        None,
        serialization_alias="tag",
        validation_alias=VERSION_ALIASES,
        description="Tag of the first version (default: initial)",
    )
    comment: str | None = Field(None, max_length=1024, description="Comment of the first version")
    headers: TemplateHeaders = None
    created_by: str | None = Field(None, serialization_alias="createdBy", max_length=255)


class ClearTemplates(Params):
    """Delete every template of a domain, with all versions. Irreversible."""

    domain: Domain


class GetTemplate(_Template):
    """Show a template's metadata."""

    active: YesNo | None = Field(None, description="Also return the active version's content")


class UpdateTemplate(_Template):
    """Change a template's description."""

    description: str = Field(max_length=1024)


class DeleteTemplate(_Template):
    """Delete a template and all its versions. Irreversible."""


class ListTemplateVersions(_Template):
    """List a template's versions (tag, active, comment, created) without their content."""

    limit: PageSize = 10
    cursor: Cursor = None


class CreateTemplateVersion(_Version):
    """Add a version to a template."""

    template: Text = Field(validation_alias=TEXT_ALIASES)
    comment: str | None = Field(None, max_length=1024)
    active: Active = None
    headers: TemplateHeaders = None


class GetTemplateVersion(_Version):
    """Show one version of a template, with its content."""


class UpdateTemplateVersion(_Version):
    """Change a version's content, comment or headers, or make it the active one."""

    template: Text | None = Field(None, validation_alias=TEXT_ALIASES)
    comment: str | None = Field(None, max_length=1024)
    active: Active = None
    headers: TemplateHeaders = None


class DeleteTemplateVersion(_Version):
    """Delete one version of a template."""


class CopyTemplateVersion(_Version):
    """Copy a version to a new tag (an existing tag is overwritten); the copy is not activated."""

    new_template_version: VersionTag = Field(validation_alias=AliasChoices("new_template_version", "new_tag"))
    comment: Annotated[str | None, Query] = Field(None, max_length=1024, description="Comment of the copy")


# fmt: off
OPERATIONS = (
    Operation("list_templates", "GET", "/v3/{domain}/templates", ListTemplates, Access.READ, paging=Paging.URLS),
    Operation("create_template", "POST", "/v3/{domain}/templates", CreateTemplate, Access.WRITE),
    Operation("clear_templates", "DELETE", "/v3/{domain}/templates", ClearTemplates, Access.DELETE),
    Operation("get_template", "GET", "/v3/{domain}/templates/{template_name}", GetTemplate, Access.READ),
    Operation("update_template", "PUT", "/v3/{domain}/templates/{template_name}", UpdateTemplate, Access.WRITE),
    Operation("delete_template", "DELETE", "/v3/{domain}/templates/{template_name}", DeleteTemplate, Access.DELETE),
    # The versions of this answer sit under template.versions, not at the top level.
    Operation("list_template_versions", "GET", "/v3/{domain}/templates/{template_name}/versions", ListTemplateVersions, Access.READ, paging=Paging.URLS, items_key="template.versions"),
    Operation("create_template_version", "POST", "/v3/{domain}/templates/{template_name}/versions", CreateTemplateVersion, Access.WRITE),
    Operation("get_template_version", "GET", "/v3/{domain}/templates/{template_name}/versions/{template_version}", GetTemplateVersion, Access.READ),
    Operation("update_template_version", "PUT", "/v3/{domain}/templates/{template_name}/versions/{template_version}", UpdateTemplateVersion, Access.WRITE),
    Operation("delete_template_version", "DELETE", "/v3/{domain}/templates/{template_name}/versions/{template_version}", DeleteTemplateVersion, Access.DELETE),
    Operation("copy_template_version", "PUT", "/v3/{domain}/templates/{template_name}/versions/{template_version}/copy/{new_template_version}", CopyTemplateVersion, Access.WRITE),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_templates": ("stored email templates",),
    "create_template": ("new email template", "save a reusable layout"),
    "clear_templates": ("remove every template",),
    "get_template": ("template details",),
    "update_template": ("template description",),
    "delete_template": ("remove a template",),
    "list_template_versions": ("versions of a template",),
    "create_template_version": ("new version of a template",),
    "get_template_version": ("html of a template version",),
    "update_template_version": ("edit the html of a template", "activate a template version"),
    "delete_template_version": ("remove an old template version",),
    "copy_template_version": ("duplicate a template version",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
