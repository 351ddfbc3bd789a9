"""Templates: stored message templates of a domain and their versions."""

from typing import Annotated, Literal

from pydantic import Field

from mg_tools import Access, Operation, Paging, hookimpl
from mg_tools.types import Cursor, Domain, HeaderText, JsonText, Params, Query, YesNo

TemplateName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^\S+$",
                                    description="Template name (stored lower-cased)")]
Tag = Annotated[str, Field(min_length=1, max_length=255, description="Version tag, e.g. v2")]
Content = Annotated[str, Field(min_length=1, max_length=100 * 1024,
                               description="Template body, Handlebars: <p>Hi {{name}}</p>")]
PageSize = Annotated[int, Field(ge=1, le=100)]
TemplateHeaders = Annotated[
    dict[Literal["From", "Subject", "Reply-To"], HeaderText] | None,
    JsonText,
    Field(description="Headers added at delivery; message headers win"),
]


class ListTemplates(Params):
    """List a domain's stored templates (name, description, created)."""

    domain: Domain
    limit: PageSize = 10
    cursor: Cursor = None


class CreateTemplate(Params):
    """Store a new template; with content it gets a first version that is active at once."""

    domain: Domain
    name: TemplateName
    description: str | None = Field(None, max_length=1024)
    content: Content | None = Field(None, serialization_alias="template")
    tag: Tag | None = Field(None, description="Tag of the first version (default: initial)")
    comment: str | None = Field(None, max_length=1024, description="Comment of the first version")
    headers: TemplateHeaders = None
    created_by: str | None = Field(None, serialization_alias="createdBy", max_length=255)


class ClearTemplates(Params):
    """Delete every template of a domain, with all versions. Irreversible."""

    domain: Domain


class GetTemplate(Params):
    """Show a template's metadata; active=true also returns the active version's content."""

    domain: Domain
    name: TemplateName
    active: YesNo | None = None


class UpdateTemplate(Params):
    """Change a template's description."""

    domain: Domain
    name: TemplateName
    description: str = Field(max_length=1024)


class DeleteTemplate(Params):
    """Delete a template and all its versions. Irreversible."""

    domain: Domain
    name: TemplateName


class ListTemplateVersions(Params):
    """List a template's versions (tag, active, comment, created) without their content."""

    domain: Domain
    name: TemplateName
    limit: PageSize = 10
    cursor: Cursor = None


class CreateTemplateVersion(Params):
    """Add a version to a template; active=true makes it the one used for sending."""

    domain: Domain
    name: TemplateName
    tag: Tag
    content: Content = Field(serialization_alias="template")
    comment: str | None = Field(None, max_length=1024)
    active: YesNo | None = None
    headers: TemplateHeaders = None


class GetTemplateVersion(Params):
    """Show one version of a template, with its content."""

    domain: Domain
    name: TemplateName
    tag: Tag


class UpdateTemplateVersion(Params):
    """Change a version's content, comment or headers; active=true makes it the one used for sending."""

    domain: Domain
    name: TemplateName
    tag: Tag
    content: Content | None = Field(None, serialization_alias="template")
    comment: str | None = Field(None, max_length=1024)
    active: YesNo | None = None
    headers: TemplateHeaders = None


class DeleteTemplateVersion(GetTemplateVersion):
    """Delete one version of a template."""


class CopyTemplateVersion(Params):
    """Copy a version to a new tag (an existing tag is overwritten); the copy is not activated."""

    domain: Domain
    name: TemplateName
    tag: Tag
    new_tag: Tag
    comment: Annotated[str | None, Query] = Field(None, max_length=1024, description="Comment of the copy")


OPERATIONS = (
    Operation("list_templates", "GET", "/v3/{domain}/templates", ListTemplates, Access.READ, paging=Paging.URLS),
    Operation("create_template", "POST", "/v3/{domain}/templates", CreateTemplate, Access.WRITE),
    Operation("clear_templates", "DELETE", "/v3/{domain}/templates", ClearTemplates, Access.DELETE),
    Operation("get_template", "GET", "/v3/{domain}/templates/{name}", GetTemplate, Access.READ),
    Operation("update_template", "PUT", "/v3/{domain}/templates/{name}", UpdateTemplate, Access.WRITE),
    Operation("delete_template", "DELETE", "/v3/{domain}/templates/{name}", DeleteTemplate, Access.DELETE),
    # The versions of this answer sit under template.versions, not at the top level.
    Operation("list_template_versions", "GET", "/v3/{domain}/templates/{name}/versions", ListTemplateVersions,
              Access.READ, paging=Paging.URLS, items_key="template.versions"),
    Operation("create_template_version", "POST", "/v3/{domain}/templates/{name}/versions", CreateTemplateVersion,
              Access.WRITE),
    Operation("get_template_version", "GET", "/v3/{domain}/templates/{name}/versions/{tag}", GetTemplateVersion,
              Access.READ),
    Operation("update_template_version", "PUT", "/v3/{domain}/templates/{name}/versions/{tag}",
              UpdateTemplateVersion, Access.WRITE),
    Operation("delete_template_version", "DELETE", "/v3/{domain}/templates/{name}/versions/{tag}",
              DeleteTemplateVersion, Access.DELETE),
    Operation("copy_template_version", "PUT", "/v3/{domain}/templates/{name}/versions/{tag}/copy/{new_tag}",
              CopyTemplateVersion, Access.WRITE),
)


@hookimpl
def register_operations(register):
    for operation in OPERATIONS:
        register(operation)
