from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [
        migrations.CreateModel(
            name="BaselineRow",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(help_text="A name.", max_length=200)),
                ("country", models.CharField(help_text="A country code.", max_length=2)),
                ("date", models.DateField(help_text="A date.")),
                ("amount", models.IntegerField(help_text="A number.")),
                ("created_at", models.DateTimeField(help_text="A timestamp.")),
            ],
        ),
    ]
