# Webhook subscriptions get an owner client and a rotatable secret; refused attempts have no duration.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('metadata', '0003_webhooks'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhooksubscription',
            name='created_by_client',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='metadata.partnerclient'),
        ),
        migrations.AddField(
            model_name='webhooksubscription',
            name='previous_secret',
            field=models.CharField(blank=True, editable=False, max_length=128),
        ),
        migrations.AddField(
            model_name='webhooksubscription',
            name='previous_secret_expires_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='webhookattempt',
            name='duration_ms',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
