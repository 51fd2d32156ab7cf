from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.wecom import services, wechat
from siyu.wecom.models import WECHAT_API_BASE, WECHAT_OAUTH_BASE, WECOM_API_BASE


class Command(BaseCommand):
    help = (
        "WeCom connector: `siyu wecom configure --workspace SLUG --corp-id ... --agent-id ... --secret ... "
        "--token ... --aes-key ... [--api-base URL]`; the brand's WeChat service account (服务号): "
        "`siyu wecom service-account --workspace SLUG --app-id ... --secret ... [--api-base URL] [--oauth-base URL]`"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        configure = sub.add_parser("configure", help="save a brand's WeCom settings")
        configure.add_argument("--workspace", required=True, help="the brand's short name (slug)")
        configure.add_argument("--corp-id", required=True)
        configure.add_argument("--agent-id", required=True)
        configure.add_argument("--secret", required=True)
        configure.add_argument("--token", required=True)
        configure.add_argument("--aes-key", required=True)
        configure.add_argument("--api-base", default=WECOM_API_BASE)
        account = sub.add_parser("service-account", help="save a brand's WeChat service account (服务号)")
        account.add_argument("--workspace", required=True, help="the brand's short name (slug)")
        account.add_argument("--app-id", required=True)
        account.add_argument("--secret", default="", help="the AppSecret (kept as saved when left out)")
        account.add_argument("--api-base", default=WECHAT_API_BASE)
        account.add_argument("--oauth-base", default=WECHAT_OAUTH_BASE)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"no brand with the short name {options['workspace']!r}")
        if action == "service-account":
            try:
                wechat.configure_service_account(
                    workspace, OPERATOR, app_id=options["app_id"], secret=options["secret"],
                    api_base=options["api_base"], oauth_base=options["oauth_base"],
                )
            except ValidationError as exc:
                raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
            self.stdout.write(f"WeChat service account saved for {workspace.slug}")
            return
        try:
            services.configure(
                workspace, OPERATOR,
                corp_id=options["corp_id"], agent_id=options["agent_id"], secret=options["secret"],
                token=options["token"], aes_key=options["aes_key"], api_base=options["api_base"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(f"WeCom settings saved for {workspace.slug}; callback path: /wecom/callback/{workspace.slug}/")
