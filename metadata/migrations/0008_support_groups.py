"""The support groups, so an operator only assigns people to them (issue 24).

"Support" views metadata, its history and the linkable objects in the admin and changes
nothing; "Support lead" may also change any object's metadata (CAN_MUTATE_METADATA and the
admin's add/change/delete of metadata rows), never the objects themselves. The demo's
support@example.com and support.lead@example.com are members of these groups.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    ("metadata", "metadata", "view_metadata"),
    ("metadata", "metadatachange", "view_metadatachange"),
    ("metadata", "account", "view_account"),
    ("metadata", "property", "view_property"),
    ("metadata", "user", "view_user"),
    ("metadata", "entity", "view_entity"),
    ("metadata", "counterpart", "view_counterpart"),
    ("metadata", "payable", "view_payable"),
]
CHANGE = [
    ("metadata", "metadata", "can_mutate_metadata"),
    ("metadata", "metadata", "add_metadata"),
    ("metadata", "metadata", "change_metadata"),
    ("metadata", "metadata", "delete_metadata"),
]
GROUPS = {"Support": VIEW, "Support lead": VIEW + CHANGE}


def create_groups(apps, schema_editor):
    # Permissions are made after `migrate` finishes; on an empty database they do not exist
    # yet, so make them now (the later pass finds them and adds nothing).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    for name, wanted in GROUPS.items():
        group, _ = Group.objects.using(db).get_or_create(name=name)
        permissions = [
            Permission.objects.using(db).get(
                content_type__app_label=app_label,
                content_type__model=model,
                codename=codename,
            )
            for app_label, model, codename in wanted
        ]
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("metadata", "0007_provisioning_client"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
